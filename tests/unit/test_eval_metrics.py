"""The evaluation's figures on small hand-made truths and lists: each one can go wrong and is checked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mimamori_demo.eval_metrics import (
    collapses,
    false_alarms,
    missed,
    slow_cases,
    urgent_in_known_hospital_stay,
)
from mimamori_demo.eval_run import visit_outcome
from mimamori_demo.evaluation import DayView, Scope, consent_scopes, privacy_violations

pytestmark = pytest.mark.unit
ALL = Scope(None, None)
FIVE = ["kanda-coop", "hikari-bento", "midori-denki", "minato-suido", "aoba-clinic"]
SECTORS = {
    "kanda-coop": "delivery",
    "hikari-bento": "delivery",
    "midori-denki": "utility",
    "minato-suido": "utility",
    "sakura-life": "insurer",
    "aoba-clinic": "clinic",
}
JST = dt.timezone(dt.timedelta(hours=9))


def entry(tier: str, rid: str = "", partners: tuple[str, ...] = ("midori-denki",), sectors=("utility",)):
    return {
        "entry_id": f"WL-{rid}",
        "tier": tier,
        "reasons": [
            {"rule_id": "electricity_rhythm_lost", "partners": list(partners), "sectors": list(sectors)}
        ],
    }


def view(day: str, entries: dict, watched: set[str], scopes=None, notices=None, withdrawn=None) -> DayView:
    return DayView(
        day,
        entries,
        notices or [],
        watched,
        scopes if scopes is not None else {r: [ALL] for r in watched},
        withdrawn or set(),
    )


def collapse(rid: str, at: str, expected: str, partners=FIVE) -> dict:
    return {
        "resident_id": rid,
        "scenario": "collapse",
        "partners": partners,
        "collapse_at": at,
        "flat": "low",
        "should_be_listed_from": expected,
        "expected_tier": "urgent",
    }


DAYS = ["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"]


def test_collapse_recall_counts_day_one_day_two_and_leaves_out_one_feed_residents():
    truth = {
        "scenarios": [
            collapse("A", "2026-11-02T08:00:00+09:00", "2026-11-03"),  # found on the expected morning
            collapse("B", "2026-11-02T09:00:00+09:00", "2026-11-03"),  # found a day late, as high
            collapse("C", "2026-11-02T10:00:00+09:00", "2026-11-03"),  # only ever watch: not found
            collapse("D", "2026-11-02T11:00:00+09:00", "2026-11-03"),  # one feed in scope: left out
            collapse("E", "2026-11-03T08:00:00+09:00", "2026-11-04"),  # listed on the collapse date only
            collapse("F", "2026-11-04T15:00:00+09:00", "2026-11-06"),  # its day 2 is after the run
        ]
    }
    watched = {"A", "B", "C", "D", "E", "F"}
    scopes = {r: [ALL] for r in "ABCEF"} | {"D": [Scope(frozenset({"midori-denki"}), None)]}
    views = [
        view(DAYS[0], {"E": entry("urgent")}, watched, scopes),
        view(DAYS[1], {"A": entry("urgent"), "C": entry("watch"), "E": entry("urgent")}, watched, scopes),
        view(DAYS[2], {"B": entry("high"), "C": entry("watch")}, watched, scopes),
        view(DAYS[3], {"C": entry("watch")}, watched, scopes),
    ]
    found = collapses(truth, views, SECTORS)
    assert (found["cases"], found["fewer_than_two_feeds"], found["window_not_over"]) == (4, 1, 1)
    assert (found["within_1_day"], found["within_2_days"]) == (1, 2)
    assert (found["recall_1_day"], found["recall_2_days"]) == (0.25, 0.5)
    assert found["median_delay_days"] == 1.5
    assert found["median_days_after_collapse_date"] == 1.5
    by_id = {c["resident_id"]: c for c in found["detail"]}
    assert by_id["E"]["found_on"] is None  # the entry on the collapse date itself predates the collapse
    assert by_id["D"]["feeds"] == ["midori-denki"]


def test_false_alarms_are_urgent_or_high_without_a_story_that_has_begun():
    truth = {
        "scenarios": [
            collapse("A", "2026-11-03T08:00:00+09:00", "2026-11-04"),
            {"resident_id": "T", "scenario": "trip", "partners": FIVE},
        ]
    }
    watched = {f"N{i}" for i in range(498)} | {"A", "T"}
    views = [
        view(DAYS[0], {"A": entry("urgent"), "N1": entry("watch")}, watched),  # before the collapse: false
        view(DAYS[1], {"T": entry("high"), "N2": entry("high")}, watched),  # trip and a normal resident
        view(DAYS[2], {"A": entry("urgent"), "N3": entry("watch")}, watched),  # after the collapse: true
    ]
    result = false_alarms(truth, views)
    assert result["entries"] == 3
    assert result["watched_resident_days"] == 1500
    assert result["per_1000_per_day"] == 2.0
    assert result["by_scenario"] == {"collapse": 1, "normal": 1, "trip": 1}


def slow_case(rid: str, scenario: str, onset: str, day: str, tier: str) -> dict:
    return {"resident_id": rid, "scenario": scenario, onset: day, "expected_tier": tier, "partners": FIVE}


def test_decline_and_bereavement_must_reach_their_tier_within_fourteen_days():
    truth = {
        "scenarios": [
            slow_case("D1", "decline", "decline_from", "2026-11-01", "high"),
            slow_case("D2", "decline", "decline_from", "2026-11-01", "high"),
            slow_case("B1", "bereavement", "spouse_died_on", "2026-11-01", "watch"),
            slow_case("B2", "bereavement", "spouse_died_on", "2026-11-20", "watch"),
        ]
    }
    watched = {"D1", "D2", "B1", "B2"}
    views = [
        view("2026-11-10", {"D1": entry("high"), "D2": entry("watch")}, watched),
        view("2026-11-16", {"B1": entry("watch")}, watched),  # day 15 after the death: too late
        view("2026-11-21", {}, watched),
    ]
    slow = slow_cases(truth, views)
    assert (slow["decline"]["cases"], slow["decline"]["found"]) == (2, 1)
    assert slow["decline"]["detail"][1]["first_tier"] == "watch"
    assert (slow["bereavement"]["cases"], slow["bereavement"]["found"]) == (1, 0)
    assert slow["bereavement"]["window_not_over"] == 1
    gaps = missed(truth, views, {"detail": []}, slow)
    assert [(m["scenario"], m["resident_id"]) for m in gaps] == [("decline", "D2"), ("bereavement", "B1")]


def test_urgent_entries_count_only_while_the_delivered_stay_is_known():
    truth = {
        "scenarios": [
            {
                "resident_id": "H",
                "scenario": "hospital_stay",
                "partners": FIVE,
                "admitted_at": "2026-11-02T10:00:00+09:00",
                "discharged_at": "2026-11-06T11:00:00+09:00",
                "explained_by_insurer_from": "2026-11-04",
            }
        ]
    }
    days = ["2026-11-04", "2026-11-05", "2026-11-06", "2026-11-07", "2026-11-08"]
    tiers = ["urgent", "urgent", "high", "urgent", "urgent"]
    views = [view(d, {"H": entry(t, "H")}, {"H"}) for d, t in zip(days, tiers, strict=True)]
    result = urgent_in_known_hospital_stay(truth, views)
    assert [f["day"] for f in result["detail"]] == ["2026-11-05", "2026-11-07"]


def test_privacy_checks_name_each_kind_of_violation():
    scopes = {
        "ok": [ALL],
        "narrow": [Scope(frozenset({"kanda-coop", "midori-denki"}), None)],
        "sectors": [Scope(None, frozenset({"delivery", "clinic"}))],
        "old": [ALL],
    }
    entries = {
        "ok": entry("urgent", "ok"),
        "narrow": entry("high", "narrow", ("minato-suido",), ("utility",)),
        "sectors": entry("high", "sectors", ("kanda-coop",), ("utility",)),
        "gone": entry("watch", "gone"),
        "never": entry("watch", "never"),
        "old": entry("watch", "old"),
    }
    day = view("2026-11-05", entries, {"ok", "narrow", "sectors"}, scopes, withdrawn={"gone"})
    found = {(v["resident_id"], v["check"]) for v in privacy_violations(day, SECTORS)}
    assert found == {
        ("narrow", "out_of_scope"),
        ("sectors", "out_of_scope"),
        ("gone", "after_withdrawal"),
        ("never", "no_consent"),
        ("old", "not_eligible"),
    }


def test_consent_scopes_follow_the_files_dated_up_to_the_day(tmp_path: Path):
    folder = tmp_path / "consents"
    folder.mkdir()
    header = (
        "resident_id,consent_id,scope_partners,scope_sectors,purpose,granted_on,expires_on,withdrawn_on\n"
    )
    (folder / "consents_20261101.csv").write_text(
        header
        + "R1,C1,*,*,w,2026-01-01,2027-01-01,\nR2,C2,kanda-coop;aoba-clinic,*,w,2026-01-01,2027-01-01,\n"
        "R3,C3,*,*,w,2025-01-01,2026-11-03,\n",
        encoding="utf-8",
    )
    (folder / "consents_20261105.csv").write_text(
        header + "R1,C1,*,*,w,2026-01-01,2027-01-01,2026-11-05\n", encoding="utf-8"
    )
    scopes, withdrawn = consent_scopes(tmp_path, dt.date(2026, 11, 4))
    assert set(scopes) == {"R1", "R2"} and not withdrawn
    assert scopes["R2"][0].covers("aoba-clinic", "clinic") and not scopes["R2"][0].covers("midori-denki", "x")
    scopes, withdrawn = consent_scopes(tmp_path, dt.date(2026, 11, 5))
    assert set(scopes) == {"R2"} and withdrawn == {"R1"}


def test_a_visit_finds_what_the_truth_says():
    def at(text: str) -> dt.datetime:
        return dt.datetime.fromisoformat(text + "T10:00:00+09:00")

    fallen = collapse("A", "2026-11-03T08:00:00+09:00", "2026-11-04")
    stay = {"scenario": "hospital_stay", "admitted_at": "2026-11-02T10:00:00+09:00",
            "discharged_at": "2026-11-06T11:00:00+09:00"}  # fmt: skip
    trip = {
        "scenario": "trip",
        "trip_from": "2026-11-02T09:00:00+09:00",
        "trip_until": "2026-11-04T15:00:00+09:00",
    }
    assert visit_outcome(fallen, at("2026-11-03")) == "emergency_called"
    assert visit_outcome(fallen, at("2026-11-02")) == "safe_no_action"
    assert visit_outcome(stay, at("2026-11-06")) == "hospitalised"
    assert visit_outcome(stay, at("2026-11-07")) == "safe_no_action"
    assert visit_outcome(trip, at("2026-11-03")) == "not_home"
    assert visit_outcome({"scenario": "decline", "decline_from": "2026-11-03"}, at("2026-11-03")) == (
        "support_started"
    )
    assert visit_outcome(None, at("2026-11-03")) == "safe_no_action"
