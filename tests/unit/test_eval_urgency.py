"""Next-morning recall by collapse hour, false urgent entries and listings after a rescue, on fixtures."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mimamori_demo.eval_metrics import false_alarms
from mimamori_demo.eval_urgency import URGENT, hour_table, listed_after_emergency, recall_by_hour
from mimamori_demo.evaluation import DayView, Scope

pytestmark = pytest.mark.unit
ALL = Scope(None, None)
PARTNERS = ["midori-denki", "minato-suido"]
SECTORS = {"midori-denki": "utility", "minato-suido": "utility"}
DAYS = ["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"]


def entry(tier: str, rid: str) -> dict:
    return {
        "entry_id": f"WL-{rid}",
        "tier": tier,
        "reasons": [{"rule_id": "r", "partners": [], "sectors": []}],
    }


def views(
    listed: dict[str, dict[str, str]], watched: set[str], scoped: set[str] | None = None
) -> list[DayView]:
    """One view per day; `listed` maps day -> resident -> tier."""
    scopes = {r: [ALL] for r in (watched if scoped is None else scoped)}
    return [
        DayView(d, {r: entry(t, r) for r, t in listed.get(d, {}).items()}, [], watched, scopes, set())
        for d in DAYS
    ]


def collapse(rid: str, at: str) -> dict:
    return {
        "resident_id": rid,
        "scenario": "collapse",
        "partners": PARTNERS,
        "collapse_at": at,
        "flat": "low",
    }


def test_recall_by_hour_counts_the_next_calendar_morning_whatever_the_hour():
    truth = {
        "scenarios": [
            collapse("A", "2026-11-02T08:00:00+09:00"),  # urgent on 11-03: found at once
            collapse("B", "2026-11-02T08:30:00+09:00"),  # high on 11-03, urgent on 11-04
            collapse("C", "2026-11-02T19:00:00+09:00"),  # nothing on 11-03, urgent on 11-04: late
            collapse("D", "2026-11-04T21:00:00+09:00"),  # high on 11-05, its second morning is beyond the run
            collapse("E", "2026-11-05T07:00:00+09:00"),  # its next morning is beyond the run: left out
            collapse("F", "2026-11-03T08:00:00+09:00"),  # on 11-03's list already: its 10:00 visit finds it
        ]
    }
    listed = {
        "2026-11-03": {"A": "urgent", "B": "high", "F": "watch"},
        "2026-11-04": {"A": "urgent", "B": "urgent", "C": "urgent"},
        "2026-11-05": {"D": "high"},
    }
    r = recall_by_hour(truth, views(listed, set("ABCDEF")), SECTORS)
    assert r["found_same_day"] == 1  # F: left out, the team had already called an ambulance
    assert r["by_hour"]["8"]["cases"] == 2
    assert r["by_hour"]["8"]["urgent_next_morning"] == 1
    assert r["by_hour"]["8"]["urgent_or_high_next_morning"] == 2
    assert r["by_hour"]["8"]["urgent_within_two_days"] == 2
    assert r["by_hour"]["19"]["urgent_or_high_next_morning"] == 0
    assert r["by_hour"]["19"]["urgent_within_two_days"] == 1
    assert r["before_14"]["recall_urgent_next_morning"] == 0.5
    assert r["overall"]["cases"] == 4
    assert r["overall"]["decided_two_days"] == 3  # D's second morning is not run
    assert r["overall"]["recall_urgent_or_high_next_morning"] == 0.75
    assert r["overall"]["recall_urgent_within_two_days"] == 1.0
    assert r["overall"]["listed_within_two_days"] == 3
    assert any(line.strip().startswith("08 |") for line in hour_table(r))
    assert hour_table(r)[-1].endswith("(left out): 1")


def test_recall_by_hour_leaves_out_a_collapse_without_any_feed_in_scope():
    truth = {
        "scenarios": [collapse("A", "2026-11-02T08:00:00+09:00"), collapse("B", "2026-11-02T09:00:00+09:00")]
    }
    r = recall_by_hour(truth, views({"2026-11-03": {"A": "urgent"}}, {"A", "B"}, scoped={"A"}), SECTORS)
    assert r["overall"]["cases"] == 1
    assert r["overall"]["recall_urgent_next_morning"] == 1.0


def test_listed_after_emergency_counts_every_listing_after_the_first_visit_that_found_the_collapse():
    truth = {
        "scenarios": [
            collapse("A", "2026-11-02T08:00:00+09:00"),  # listed 11-03: the 10:00 visit calls an ambulance
            collapse(
                "B", "2026-11-03T12:00:00+09:00"
            ),  # listed on 11-03 before the collapse: visit finds nothing
        ]
    }
    listed = {
        "2026-11-03": {"A": "urgent", "B": "watch"},
        "2026-11-04": {"A": "urgent", "B": "urgent"},
        "2026-11-05": {"A": "watch", "B": "urgent"},
    }
    r = listed_after_emergency(truth, views(listed, {"A", "B"}))
    assert r["entries"] == 3  # A on 11-04 and 11-05, B on 11-05
    assert r["residents"] == 2


def test_false_urgent_counts_only_urgent_entries_of_residents_with_nothing_wrong():
    truth = {"scenarios": [collapse("A", "2026-11-03T08:00:00+09:00")]}
    listed = {
        "2026-11-03": {"A": "urgent", "N": "high"},  # A before its collapse day ends: false
        "2026-11-04": {"A": "urgent", "N": "urgent"},
    }
    v = views(listed, {"A", "N"})
    urgent = false_alarms(truth, v, URGENT)
    assert urgent["entries"] == 2
    assert false_alarms(truth, v)["entries"] == 3


def test_an_unreported_hospital_admission_is_counted_apart_and_in_the_strict_figure():
    stay = {
        "resident_id": "H",
        "scenario": "hospital_stay",
        "admitted_at": "2026-11-02T10:00:00+09:00",
        "discharged_at": "2026-11-08T10:00:00+09:00",
        "explained_by_insurer_from": "2026-11-04",
    }
    listed = {"2026-11-03": {"H": "urgent"}, "2026-11-05": {"H": "urgent"}}  # the second one after the report
    urgent = false_alarms({"scenarios": [stay]}, views(listed, {"H"}), URGENT)
    assert urgent["entries"] == 1 and urgent["hospital_before_known"] == 1
    assert urgent["strict_per_1000_per_day"] == 2 * urgent["per_1000_per_day"]


def test_what_kept_a_collapse_below_urgent_on_the_next_morning_is_counted_by_cause_and_hour():
    truth = {
        "scenarios": [
            {
                **collapse("A", "2026-11-02T15:00:00+09:00"),
                "kind": "water_only",
                "partners": ["minato-suido"],
            },
            {**collapse("B", "2026-11-03T21:00:00+09:00"), "kind": "standard"},  # watch: low-flat
            {**collapse("C", "2026-11-02T13:00:00+09:00"), "kind": "standard", "flat": "high"},  # no readings
            {**collapse("D", "2026-11-02T09:00:00+09:00"), "kind": "standard"},  # urgent: not counted
        ]
    }
    listed = {"2026-11-03": {"C": "watch", "D": "urgent"}, "2026-11-04": {"B": "watch"}}  # A: not listed
    days = views(listed, set("ABCD"))
    missing = {"partner_id": "midori-denki", "status": "missing", "text_ja": "", "text_en": ""}
    days[1] = replace(days[1], notices=[missing])  # the list of 11-03: no electricity for 11-02
    r = recall_by_hour(truth, days, SECTORS)
    assert r["below_urgent_by_cause"] == {
        "utility_feed_missing": {"13": 1},
        "standard-low": {"21": 1},
        "water_only": {"15": 1},
    }
    assert any("utility_feed_missing 1" in line and "water_only 1" in line for line in hour_table(r))
