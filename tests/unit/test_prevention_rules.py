"""Prevention rules: the register's own signals, and decline agreeing across areas of life."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from watchlist_frames import END, NAMES, RULES, event

from identity.register import household_change
from watchlist.combine import combine
from watchlist.evidence import REGISTER_COLUMNS, Context, evaluate
from watchlist.feedback import Visit

pytestmark = pytest.mark.unit
TODAY = END.date()


def register(*rows: tuple[str, dt.date | None, str | None, bool, dt.date | None]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(REGISTER_COLUMNS))


def assess(frame: pd.DataFrame, reg: pd.DataFrame | None = None, visits=None) -> dict:
    signals = (
        frame
        if not frame.empty
        else pd.DataFrame([event("z", "coop", "delivery", "handed_over", "2026-11-19")])
    )
    ctx = Context.in_memory(signals, END, frozenset({"coop", "life", "midori-denki", "clinic"}), NAMES, reg)
    return {a.resident: a for a in combine(RULES, evaluate(RULES.rules, ctx), {}, visits or {})}


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def test_a_household_left_alone_by_a_death_is_listed_from_the_register_alone():
    reg = register(
        ("bereaved", days_ago(5), "death", True, None),
        ("long_ago", days_ago(200), "death", True, None),  # outside the window
        ("moved_out", days_ago(5), "move_out", True, None),  # a child moving out is no death
        ("visited", days_ago(5), "death", True, days_ago(2)),  # a visit since has seen it
    )
    found = assess(pd.DataFrame(), reg)
    assert set(found) == {"bereaved"}
    reason = found["bereaved"].evidence[0]
    assert found["bereaved"].tier == "watch"
    assert reason.rule.id == "register_alone_after_death" and reason.partners == () and reason.sectors == ()
    assert "死亡により11/15からひとり暮らし" in reason.rule.text_ja.format(**reason.facts, partners="")


def test_a_newcomer_is_listed_and_an_old_move_in_is_not():
    reg = register(
        ("new", days_ago(10), "move_in", True, None), ("old", days_ago(400), "move_in", True, None)
    )
    assert set(assess(pd.DataFrame(), reg)) == {"new"}


def test_a_long_unchanged_household_without_any_feed_is_listed_until_a_visit():
    reg = register(
        ("unseen", days_ago(365 * 15), "move_in", False, None),
        ("fed", days_ago(365 * 15), "move_in", True, None),  # a partner sees this one
        ("recent", days_ago(365 * 3), "move_in", False, None),  # not long-unchanged
        ("visited", days_ago(365 * 15), "birth", False, days_ago(30)),  # visited within revisit_days
    )
    found = assess(pd.DataFrame(), reg)
    assert set(found) == {"unseen"}
    assert found["unseen"].evidence[0].facts["years"] == 15


def test_an_unreadable_household_change_is_left_out_and_an_unknown_reason_is_other():
    assert household_change("2026-11-03", "death") == (dt.date(2026, 11, 3), "death")
    assert household_change("", "") == (None, None)
    assert household_change("3 Nov", "転出") == (None, "other")


def money_and_clinic(resident: str, premiums: int, misses: int) -> list[dict]:
    rows = [
        event(resident, "life", "insurer", "premium_overdue", f"2026-11-{10 + i} 00:00")
        for i in range(premiums)
    ]
    rows += [
        event(resident, "clinic", "clinic", "missed_appointment", f"2026-11-{5 + 7 * i} 10:00")
        for i in range(misses)
    ]
    return rows


def test_decline_in_two_areas_is_high_and_everyday_noise_is_not():
    frame = pd.DataFrame(
        money_and_clinic("both", 2, 2)  # two overdue premiums and two missed visits: two areas agree
        + money_and_clinic("noise", 1, 1)  # one of each: everyday noise, watch at most
        + money_and_clinic("money", 3, 0)  # one area only
    )
    found = assess(frame)
    assert found["both"].tier == "high"
    agreed = next(e for e in found["both"].evidence if e.rule.id == "decline_agreement")
    assert agreed.facts["areas_ja"] == "受診・支払い" and agreed.sectors == ("clinic", "insurer")
    assert "noise" not in found or found["noise"].tier == "watch"
    assert found["money"].tier != "high"


def test_a_visit_that_found_them_well_quiets_an_agreement_it_has_seen():
    frame = pd.DataFrame(money_and_clinic("both", 2, 2))
    visits = {"both": Visit("safe_no_action", days_ago(1))}
    assert "both" not in assess(frame, visits=visits)


def test_the_warehouse_keeps_no_household_date_that_is_a_birth_date_and_only_the_year_of_an_old_one():
    import datetime as dt

    from identity.register import kept_since

    run = dt.date(2026, 11, 4)
    birth = "1945-11-24"
    assert kept_since(dt.date(1945, 11, 24), "birth", birth, run) is None
    assert kept_since(dt.date(1945, 11, 24), "other", birth, run) is None  # the same day under another reason
    assert kept_since(dt.date(1990, 4, 1), "move_in", birth, run) == dt.date(1990, 1, 1)
    assert kept_since(dt.date(2026, 11, 1), "death", birth, run) == dt.date(2026, 11, 1)
    assert kept_since(None, "death", birth, run) is None
