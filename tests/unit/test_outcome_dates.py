"""Visit dates are judged by the calendar in Japan: not after today (JST), follow-ups not before the visit."""

from __future__ import annotations

import datetime as dt

import pytest

from warehouse.errors import InputError
from watchlist.outcomes import check_dates, jst_today

pytestmark = pytest.mark.unit
LISTED = dt.date(2026, 11, 20)


def test_today_in_japan_turns_at_15_utc() -> None:
    assert jst_today(dt.datetime(2026, 11, 29, 14, 59)) == dt.date(2026, 11, 29)
    assert jst_today(dt.datetime(2026, 11, 29, 15, 0)) == dt.date(2026, 11, 30)
    assert jst_today(dt.datetime(2026, 11, 29, 15, 0, tzinfo=dt.UTC)) == dt.date(2026, 11, 30)


def test_a_visit_this_morning_in_japan_is_accepted_while_utc_is_still_yesterday() -> None:
    check_dates(dt.date(2026, 11, 30), None, LISTED, dt.datetime(2026, 11, 29, 23, 0))


@pytest.mark.parametrize(
    ("visited", "follow", "reason"),
    [
        (dt.date(2026, 11, 30), None, "訪問日 2026-11-30 が未来です"),
        (dt.date(2026, 11, 19), None, "リストの日付"),
        (dt.date(2026, 11, 25), dt.date(2026, 11, 24), "次回確認日 2026-11-24 が訪問日より前です"),
    ],
)
def test_impossible_dates_are_refused_in_one_line(
    visited: dt.date, follow: dt.date | None, reason: str
) -> None:
    with pytest.raises(InputError) as refused:
        check_dates(visited, follow, LISTED, dt.datetime(2026, 11, 29, 3, 0))
    assert reason in str(refused.value) and " / " in str(refused.value) and "\n" not in str(refused.value)


def test_a_follow_up_on_the_visit_day_is_fine() -> None:
    check_dates(LISTED, LISTED, LISTED, dt.datetime(2026, 11, 29, 3, 0))
