"""Birth date parsing in Western and Japanese-era forms."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from identity.dates import parse_birth_date
from identity.errors import InvalidIdentifier

pytestmark = pytest.mark.unit

TODAY = date(2026, 11, 26)
FULL_WIDTH = str.maketrans("0123456789-/.", "０１２３４５６７８９－／．")

# The test's own era table: (kanji name, letter, first day); a date is written
# in the latest era that has started by then.
ERAS = [
    ("令和", "R", date(2019, 5, 1)),
    ("平成", "H", date(1989, 1, 8)),
    ("昭和", "S", date(1926, 12, 25)),
    ("大正", "T", date(1912, 7, 30)),
    ("明治", "M", date(1868, 1, 25)),
]


def era_of(day: date) -> tuple[str, str, int]:
    """Return (name, letter, era year) for ``day``."""
    for name, letter, first in ERAS:
        if day >= first:
            return name, letter, day.year - first.year + 1
    raise AssertionError("before Meiji")


def written_forms(day: date) -> list[str]:
    """Return ``day`` in every supported style."""
    name, letter, year = era_of(day)
    kanji_year = "元" if year == 1 else str(year)
    return [
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        day.strftime("%Y%m%d"),
        f"{name}{kanji_year}年{day.month}月{day.day}日",
        f"{letter}{year}.{day.month}.{day.day}",
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1945-03-02", date(1945, 3, 2)),
        ("1945/3/2", date(1945, 3, 2)),
        ("1945/03/02", date(1945, 3, 2)),
        ("19450302", date(1945, 3, 2)),
        ("1945年3月2日", date(1945, 3, 2)),
        ("昭和20年3月2日", date(1945, 3, 2)),
        ("昭和２０年３月２日", date(1945, 3, 2)),
        ("S20.3.2", date(1945, 3, 2)),
        ("s20.3.2", date(1945, 3, 2)),
        ("S20/3/2", date(1945, 3, 2)),
        ("S.20.3.2", date(1945, 3, 2)),
        ("Ｓ２０．３．２", date(1945, 3, 2)),
        ("１９４５－０３－０２", date(1945, 3, 2)),
        ("１９４５０３０２", date(1945, 3, 2)),
        (" 1945-03-02 ", date(1945, 3, 2)),
        ("昭和 20年 3月 2日", date(1945, 3, 2)),
        ("㍼20年3月2日", date(1945, 3, 2)),
        ("昭和元年12月25日", date(1926, 12, 25)),
        ("昭和64年1月7日", date(1989, 1, 7)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("H1.1.8", date(1989, 1, 8)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("R2.2.29", date(2020, 2, 29)),
        ("大正元年7月30日", date(1912, 7, 30)),
        ("T15.12.25", date(1926, 12, 25)),
        ("明治元年1月25日", date(1868, 1, 25)),
        ("M45.7.30", date(1912, 7, 30)),
        ("明治33年1月1日", date(1900, 1, 1)),
    ],
)
def test_examples(raw: str, expected: date) -> None:
    assert parse_birth_date(raw, today=TODAY) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1945-02-30", "impossible date"),
        ("昭和20年2月30日", "impossible date"),
        ("1945-13-01", "impossible date"),
        ("S20.13.1", "impossible date"),
        ("19450230", "impossible date"),
        ("1900-02-29", "impossible date"),
        ("S0.1.1", "impossible date"),
        ("昭和64年1月8日", "outside era range"),
        ("昭和65年1月1日", "outside era range"),
        ("平成元年1月7日", "outside era range"),
        ("平成31年5月1日", "outside era range"),
        ("令和元年4月30日", "outside era range"),
        ("大正元年7月29日", "outside era range"),
        ("大正15年12月26日", "outside era range"),
        ("昭和元年12月24日", "outside era range"),
        ("明治元年1月24日", "outside era range"),
        ("1867-12-31", "before 1868"),
        ("1800/1/1", "before 1868"),
        ("2026-11-27", "in the future"),
        ("R8.11.27", "in the future"),
        ("", "empty value"),
        ("   ", "empty value"),
        ("abc", "unrecognised format"),
        ("1945-03", "unrecognised format"),
        ("1945-3/2", "unrecognised format"),
        ("X20.3.2", "unrecognised format"),
        ("昭和20年", "unrecognised format"),
        ("450302", "unrecognised format"),
    ],
)
def test_rejections_give_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        parse_birth_date(raw, today=TODAY)
    assert (caught.value.field, caught.value.reason) == ("birth_date", reason)


def test_today_itself_is_allowed() -> None:
    assert parse_birth_date("2026-11-26", today=TODAY) == TODAY


def test_future_is_checked_against_the_real_date_by_default() -> None:
    with pytest.raises(InvalidIdentifier):
        parse_birth_date((date.today() + timedelta(days=1)).isoformat())


def test_round_trips_every_date_from_1900_to_2020() -> None:
    day, last = date(1900, 1, 1), date(2020, 12, 31)
    while day <= last:
        for raw in written_forms(day):
            assert parse_birth_date(raw, today=TODAY) == day, raw
        day += timedelta(days=1)


@given(
    st.dates(min_value=date(1868, 1, 25), max_value=TODAY),
    st.integers(min_value=0, max_value=4),
    st.booleans(),
)
def test_round_trips_any_style_and_width(day: date, style: int, full_width: bool) -> None:
    raw = written_forms(day)[style]
    if full_width:
        raw = raw.translate(FULL_WIDTH)
    assert parse_birth_date(raw, today=TODAY) == day
