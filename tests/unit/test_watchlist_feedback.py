"""Explained absences and outreach outcomes in the combination, over small signal frames."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from watchlist_frames import END, NAMES, RULES, context, electricity, event, water

from warehouse.db import migrate, session_scope, utcnow
from warehouse.models import Outcome, WatchlistEntry
from watchlist.combine import absences, combine
from watchlist.evidence import evaluate
from watchlist.feedback import Visit, in_effect, latest_visits

pytestmark = pytest.mark.unit
STOP = pd.Timestamp("2026-11-19 09:00")


def collapse(resident: str = "a", *extra: dict[str, object]) -> pd.DataFrame:
    frames = [electricity(resident, stop_at=STOP), water(resident, 0.0)]
    if extra:
        frames.append(pd.DataFrame(list(extra)))
    return pd.concat(frames, ignore_index=True)


def assess(frame: pd.DataFrame, visits: dict[str, Visit] | None = None) -> dict[str, object]:
    ctx = context(frame)
    explained = absences(RULES, ctx.signals, END, NAMES, visits or {})
    return {a.resident: a for a in combine(RULES, evaluate(RULES.rules, ctx), explained, visits or {})}


def test_orders_skipped_ahead_explain_silence_and_say_so():
    skips = [event("a", "coop", "delivery", "order_skipped", f"2026-11-{d} 10:00") for d in (17, 18, 19)]
    assessed = assess(collapse("a", *skips))
    entry = assessed.get("a")
    assert entry is None or entry.tier == "watch"
    explained = absences(RULES, context(collapse("a", *skips)).signals, END, NAMES)
    assert [x.kind for x in explained["a"]] == ["trip"]
    assert "注文が事前に休止" in explained["a"][0].text_ja and "かんだ生協" in explained["a"][0].text_ja


def test_a_skip_followed_by_no_answer_is_no_trip():
    rows = (
        event("a", "coop", "delivery", "order_skipped", "2026-11-17 10:00"),
        event("a", "coop", "delivery", "no_answer", "2026-11-19 10:00"),
    )
    assert absences(RULES, context(collapse("a", *rows)).signals, END, NAMES) == {}
    assert assess(collapse("a", *rows))["a"].tier == "urgent"


def test_a_hospital_visit_suppresses_silence_until_a_sign_of_life():
    visit = {"a": Visit("hospitalised", dt.date(2026, 11, 17))}
    entry = assess(collapse("a"), visit).get("a")
    assert entry is None  # silence only, all of it explained by the stay
    explained = absences(RULES, context(collapse("a")).signals, END, NAMES, visit)
    assert "入院が確認" in explained["a"][0].text_ja
    home_again = event("a", "coop", "delivery", "handed_over", "2026-11-18 10:00")
    assert assess(collapse("a", home_again), visit)["a"].tier == "urgent"


def test_not_home_escalates_while_silence_continues():
    # a meal left uncollected: high on one channel, not strong enough alone for urgent
    alone = pd.DataFrame([event("a", "coop", "delivery", "previous_uncollected", "2026-11-19 10:00")])
    assert assess(alone)["a"].tier == "high"
    escalated = assess(alone, {"a": Visit("not_home", dt.date(2026, 11, 18))})["a"]
    assert escalated.tier == "urgent"
    assert any(x.kind == "visit_not_home" and "不在" in x.text_ja for x in escalated.absences)
    skips = [event("a", "coop", "delivery", "order_skipped", f"2026-11-{d} 10:00") for d in (17, 18, 19)]
    overdue = event("a", "life", "insurer", "premium_overdue", "2026-11-19 00:00")
    away = assess(collapse("a", *skips, overdue), {"a": Visit("not_home", dt.date(2026, 11, 18))})["a"]
    assert away.tier == "watch"  # not home is what a trip predicts: no escalation
    quiet_life = pd.DataFrame([event("a", "insurer", "insurer", "premium_overdue", "2026-11-18 00:00")])
    not_silent = assess(quiet_life, {"a": Visit("not_home", dt.date(2026, 11, 18))}).get("a")
    assert not_silent is None or not_silent.tier == "watch"


def test_a_safe_visit_quiets_what_it_saw_but_not_what_came_after():
    seen = event("a", "coop", "delivery", "no_answer", "2026-11-18 10:00")
    safe = {"a": Visit("safe_no_action", dt.date(2026, 11, 19))}  # visiting from the 11/19 list
    frame = pd.DataFrame([seen, event("a", "coop", "delivery", "no_answer", "2026-11-18 15:00")])
    assert "a" in assess(frame)
    assert assess(frame, safe) == {}
    later = pd.DataFrame([seen, event("a", "coop", "delivery", "previous_uncollected", "2026-11-19 10:00")])
    assert "a" in assess(later, safe)


def test_which_visits_still_count():
    latest = {
        "gone": Visit("deceased", dt.date(2026, 10, 1)),
        "moved": Visit("moved", dt.date(2026, 10, 1)),
        "safe_recent": Visit("safe_no_action", dt.date(2026, 11, 18)),
        "safe_old": Visit("safe_no_action", dt.date(2026, 11, 10)),
        "away": Visit("hospitalised", dt.date(2026, 10, 1)),
        "out_old": Visit("not_home", dt.date(2026, 11, 1)),
        "helped": Visit("support_started", dt.date(2026, 11, 10)),
        "helped_long_ago": Visit("support_started", dt.date(2026, 11, 1)),
        "referred": Visit("referred_medical", dt.date(2026, 11, 12)),
        "safe_until_follow_up": Visit("safe_no_action", dt.date(2026, 11, 10), dt.date(2026, 11, 21)),
        "follow_up_due": Visit("support_started", dt.date(2026, 11, 15), dt.date(2026, 11, 20)),
    }
    kept = in_effect(latest, dt.date(2026, 11, 20), quiet_days=3, escalate_days=7, support_days=14)
    assert set(kept) == {"gone", "moved", "safe_recent", "away", "helped", "referred", "safe_until_follow_up"}


def test_support_started_quiets_what_the_visit_saw_but_not_what_came_after():
    # the team has taken the person on: the slow evidence it saw does not list them every morning again
    seen = [
        event("a", "clinic", "clinic", "missed_appointment", "2026-11-10 00:00"),
        event("a", "clinic", "clinic", "missed_appointment", "2026-11-14 00:00"),
        event("a", "life", "insurer", "premium_overdue", "2026-11-15 00:00"),
    ]
    helped = {"a": Visit("support_started", dt.date(2026, 11, 16))}
    assert "a" in assess(pd.DataFrame(seen))
    assert assess(pd.DataFrame(seen), helped) == {}
    collapsed = pd.concat([pd.DataFrame(seen), collapse("a")], ignore_index=True)
    assert assess(collapsed, helped)["a"].tier == "urgent"  # an acute sign after the visit still counts


def test_removed_people_stay_off_the_list():
    assert assess(collapse("a"), {"a": Visit("moved", dt.date(2026, 11, 1))}) == {}


def test_standing_orders_skipped_again_and_again_but_not_one_trip():
    def delivery(resident: str, day: int, kind: str) -> dict[str, object]:
        return event(resident, "coop", "delivery", kind, f"2026-11-{day:02d} 10:00")

    again = [delivery("a", d, "order_skipped" if d % 4 == 1 else "handed_over") for d in range(7, 20)]
    one_trip = [delivery("b", d, "order_skipped" if 12 <= d <= 15 else "handed_over") for d in range(7, 20)]
    found = {
        (e.resident, e.rule.id): e for e in evaluate(RULES.rules, context(pd.DataFrame(again + one_trip)))
    }
    assert found[("a", "orders_skipped")].facts["count"] == 3
    assert ("b", "orders_skipped") not in found


def test_electricity_declining_over_weeks_is_a_trend_but_a_short_trip_is_not():
    def use(resident: str, recent: float, away_days: int = 0) -> pd.DataFrame:
        frame = electricity(resident, days=21, seed=3)
        recent_rows = frame["event_start"] >= END - pd.Timedelta(days=7)
        frame.loc[recent_rows, "value"] *= recent
        away = frame["event_start"] >= END - pd.Timedelta(days=away_days)
        frame.loc[away & (away_days > 0), "value"] = 0.05
        return frame

    found = {
        (e.resident, e.rule.id): e
        for e in evaluate(RULES.rules, context(use("down", 0.6), use("trip", 1.0, away_days=3)))
    }
    assert ("down", "activity_declining") in found and found[("down", "activity_declining")].facts[
        "percent"
    ] >= 30
    assert ("trip", "activity_declining") not in found


def test_a_trend_is_not_read_from_a_feed_missing_today():
    rows = [event("a", "coop", "delivery", "handed_over", f"2026-11-{d:02d} 10:00") for d in range(1, 11)]
    frame = pd.DataFrame(rows)
    ids = {e.rule.id for e in evaluate(RULES.rules, context(frame))}
    assert "orders_declining" in ids
    assert "orders_declining" not in {e.rule.id for e in evaluate(RULES.rules, context(frame, received=()))}


def test_a_recent_discharge_explains_a_declining_trend_and_says_so():
    rows = [event("a", "coop", "delivery", "handed_over", f"2026-11-{d:02d} 10:00") for d in range(1, 11)]
    plain = pd.DataFrame(rows)
    assert assess(plain)["a"].tier == "watch"
    discharged = pd.DataFrame(
        [*rows, event("a", "life", "insurer", "hospital_discharge", "2026-11-14 00:00")]
    )
    assert assess(discharged) == {}
    note = absences(RULES, context(discharged).signals, END, NAMES)["a"][0]
    assert note.kind == "after_hospital" and "退院" in note.text_ja and "さくら生命" in note.text_ja


def test_the_follow_up_date_recorded_at_the_visit_is_what_the_list_reads(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    migrate(url)
    visited, follow_up = dt.date(2026, 11, 10), dt.date(2026, 11, 30)
    with session_scope(url) as session:
        session.add(
            WatchlistEntry(entry_id="WL-1", run_date=visited, resident="r", district_code="D01", tier="watch",
                           score=1.0, rule_set_version="t", run_id="t")
        )  # fmt: skip
        session.flush()
        session.add(
            Outcome(entry_id="WL-1", resident="r", outcome="support_started", visited_on=visited,
                    follow_up_on=follow_up, recorded_at=utcnow(), recorded_by="t")
        )  # fmt: skip
    with session_scope(url) as session:
        latest = latest_visits(session, dt.date(2026, 11, 29))
    assert latest == {"r": Visit("support_started", visited, follow_up)}
    assert in_effect(latest, dt.date(2026, 11, 29), 3, 7, 14) == latest  # past 14 days, before the follow-up
    assert in_effect(latest, dt.date(2026, 11, 30), 3, 7, 14) == {}
