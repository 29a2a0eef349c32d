"""False alarms the combination avoids: silence a later sign of life explains, short quiet runs, stays."""

from __future__ import annotations

import pandas as pd
import pytest
from watchlist_frames import END, NAMES, RULES, context, electricity, event

from watchlist.combine import Assessment, absences, combine
from watchlist.evidence import evaluate

pytestmark = pytest.mark.unit


def assess(*frames: pd.DataFrame) -> dict[str, Assessment]:
    ctx = context(*frames)
    explained = absences(RULES, ctx.signals, END, NAMES)
    return {a.resident: a for a in combine(RULES, evaluate(RULES.rules, ctx), explained, {})}


def events(*rows: tuple[str, str, str, str, str]) -> pd.DataFrame:
    return pd.DataFrame([event(*row) for row in rows])


def no_answers(resident: str) -> list[tuple[str, str, str, str, str]]:
    """Three no-answers at the door on three days: high on their own."""
    return [(resident, "coop", "delivery", "no_answer", f"2026-11-{day} 10:00") for day in (17, 18, 19)]


def test_no_answers_are_not_explained_by_a_later_handover_a_decline_answers_now_and_then():
    frame = events(
        *no_answers("a"),
        ("a", "life", "delivery", "handed_over", "2026-11-19 12:30"),
    )
    assert assess(frame)["a"].tier == "high"


def test_a_sign_of_life_is_noted_where_it_explains_a_silence():
    assessed = assess(
        electricity("a", stop_at=pd.Timestamp("2026-11-19 08:00")),
        events(
            ("a", "coop", "delivery", "handed_over", "2026-11-19 19:00"),
            ("a", "life", "clinic", "missed_appointment", "2026-11-19 00:00"),
        ),
    )
    a = assessed["a"]  # what is left stays in view, and the list says why the quiet no longer counts
    assert a.tier == "watch" and [e.rule.id for e in a.evidence] == ["clinic_missed_appointment"]
    (note,) = a.absences
    assert note.kind == "life" and note.partners == ("coop",)
    assert "11/19 19:00" in note.text_ja and "生活の兆候" in note.text_ja and "かんだ生協" in note.text_ja
    assert "sign of life on 11/19 19:00 (coop)" in note.text_en


def test_a_quiet_run_that_began_before_a_sign_of_life_counts_from_it():
    stop = pd.Timestamp("2026-11-19 08:00")  # 16 hours by midnight: urgent on its own
    assessed = assess(
        electricity("a", stop_at=stop),
        electricity("b", stop_at=stop, seed=2),
        electricity("c", stop_at=stop, seed=3),
        electricity("d", stop_at=stop, seed=4),
        events(
            ("a", "coop", "delivery", "handed_over", "2026-11-19 13:00"),  # 11 hours left: afternoon, evening
            ("b", "coop", "delivery", "handed_over", "2026-11-19 11:00"),  # 13 hours left
            ("d", "coop", "delivery", "handed_over", "2026-11-19 19:00"),  # 5 hours left: late evening
        ),
    )
    assert "d" not in assessed
    assert {assessed[r].tier for r in "abc"} == {"urgent"}


def test_an_afternoon_stop_through_the_usual_evening_is_urgent_a_late_quiet_evening_is_no_alarm():
    answer = ("delivery", "no_answer", "2026-11-19 17:30")
    assessed = assess(
        electricity("a", stop_at=pd.Timestamp("2026-11-19 15:00")),  # 9 hours, through the whole evening
        electricity("b", stop_at=pd.Timestamp("2026-11-19 11:00"), seed=2),  # 13 hours: a morning collapse
        electricity("c", stop_at=pd.Timestamp("2026-11-19 20:30"), seed=3),  # the end of the evening
        events(("a", "coop", *answer), ("b", "coop", *answer)),
    )
    a = assessed["a"]
    assert a.tier == "urgent"
    rhythm = next(e for e in a.evidence if e.rule.id == "electricity_rhythm_lost")
    assert rhythm.facts["strong"] and rhythm.facts["expected"] >= 6
    assert assessed["b"].tier == "urgent"
    c = assessed["c"]  # kept in view, no alarm: going to bed early looks the same
    assert c.tier == "watch" and not c.evidence[0].facts["strong"]


def test_clinic_visits_missed_while_in_hospital_are_explained_after_the_discharge():
    stay = [
        ("insurer", "hospital_admission", "2026-11-10 00:00"),
        ("clinic", "missed_appointment", "2026-11-12 00:00"),
        ("insurer", "hospital_discharge", "2026-11-16 00:00"),
    ]
    twice = [("delivery", "no_answer", "2026-11-18 10:00"), ("delivery", "no_answer", "2026-11-19 10:00")]
    assessed = assess(
        events(
            *(("a", "life", *row) for row in stay + twice),
            *(("b", "life", *row) for row in stay + twice),
            ("b", "life", "clinic", "missed_appointment", "2026-11-18 00:00"),  # after the discharge
        )
    )
    a = assessed["a"]
    assert a.tier == "watch" and [e.rule.id for e in a.evidence] == ["delivery_no_answer"]
    assert [x.kind for x in a.absences] == ["after_hospital"]
    assert assessed["b"].tier == "high"
    assert "clinic_missed_appointment" in {e.rule.id for e in assessed["b"].evidence}
