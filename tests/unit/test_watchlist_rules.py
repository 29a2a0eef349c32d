"""Rule evaluators and the combination over small signal frames."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from watchlist_frames import END, NAMES, RULES, context, daily, electricity, event, water

from warehouse.errors import InputError
from watchlist.combine import absences, combine
from watchlist.evidence import Context, evaluate, read_once
from watchlist.feedback import Visit
from watchlist.rules import load_rules

pytestmark = pytest.mark.unit


def found(ctx: Context) -> dict[tuple[str, str], object]:
    return {(e.resident, e.rule.id): e for e in evaluate(RULES.rules, ctx)}


def test_a_normal_day_gives_no_evidence():
    assert found(context(electricity("a"), water("a", 0.21))) == {}


def test_loss_of_rhythm_since_afternoon_is_found_by_next_morning():
    evidence = found(context(electricity("a", stop_at=pd.Timestamp("2026-11-19 15:00"))))
    hit = evidence[("a", "electricity_rhythm_lost")]
    assert 8 <= hit.facts["hours"] <= 10
    assert "使用量が低いまま" in hit.facts["pattern_ja"]
    assert hit.partners == ("midori-denki",)


def test_a_heater_left_on_is_the_high_flat_pattern():
    evidence = found(context(electricity("a", stop_at=pd.Timestamp("2026-11-19 08:00"), stuck=1.2)))
    assert "暖房" in evidence[("a", "electricity_rhythm_lost")].facts["pattern_ja"]


def test_a_feed_not_received_is_never_read_as_silence():
    ctx = context(electricity("a", stop_at=pd.Timestamp("2026-11-19 06:00")), water("a", 0.0), received=())
    assert found(ctx) == {}


def test_no_water_for_a_day_where_it_is_normally_used():
    evidence = found(context(water("a", 0.0), water("b", 0.15)))
    assert set(evidence) == {("a", "water_none")}
    assert evidence[("a", "water_none")].facts["baseline"] == 0.2


def test_repeated_events_weigh_more_and_old_ones_decay():
    frame = pd.DataFrame(
        [
            event("a", "coop", "delivery", "no_answer", "2026-11-19 10:00"),
            event("a", "coop", "delivery", "no_answer", "2026-11-18 10:00"),
            event("b", "coop", "delivery", "no_answer", "2026-11-19 10:00"),
            event("c", "coop", "delivery", "no_answer", "2026-11-17 10:00"),
        ]
    )
    evidence = found(context(frame))
    a, b, c = (evidence[(r, "delivery_no_answer")].weight for r in "abc")
    assert a == 3.0 and b == 2.0 and c == 0.5


def test_a_second_meal_left_at_the_door_is_urgent_alone_one_is_high():
    uncollected = ("meals", "delivery", "previous_uncollected")
    frame = pd.DataFrame(
        [
            event("once", *uncollected, "2026-11-19 12:00"),
            event("twice", *uncollected, "2026-11-18 12:00"),
            event("twice", *uncollected, "2026-11-19 12:00"),
        ]
    )
    assessed = {a.resident: a for a in combine(RULES, evaluate(RULES.rules, context(frame)), {}, {})}
    assert assessed["once"].tier == "high"
    assert assessed["twice"].tier == "urgent" and assessed["twice"].evidence[0].facts["strong"]


def test_corroboration_by_independent_channels_makes_urgent():
    stop = pd.Timestamp("2026-11-19 09:00")
    late = pd.Timestamp("2026-11-19 20:30")  # the end of the evening: weak alone
    frames = (
        electricity("a", stop_at=stop),
        water("a", 0.0),
        electricity("b", stop_at=stop, seed=2),
        water("b", 0.2),
        electricity("c", stop_at=late, seed=3),
        water("c", 0.2),
        electricity("d", stop_at=late, seed=4),
        water("d", 0.2),
        pd.DataFrame([event("d", "coop", "delivery", "no_answer", "2026-11-19 20:45")]),
    )
    assessed = {a.resident: a for a in combine(RULES, evaluate(RULES.rules, context(*frames)), {}, {})}
    assert assessed["a"].tier == "urgent"
    assert assessed["b"].tier == "urgent"  # one channel, but a day-long loss of rhythm is strong alone
    assert assessed["b"].evidence[0].facts["strong"]
    assert assessed["c"].tier == "watch"
    assert assessed["d"].tier == "high"  # a second sector lifts the weak signal


def test_a_morning_without_water_is_urgent_alone():
    frames = (daily("w", "water", "suido", [0.2] * 6 + [0.18, 0.05]),)  # a morning's water, then nothing
    assessed = {a.resident: a for a in combine(RULES, evaluate(RULES.rules, context(*frames)), {}, {})}
    assert [e.rule.id for e in assessed["w"].evidence] == ["water_low"]
    assert assessed["w"].tier == "urgent"


def test_a_whole_evening_missed_and_the_usual_bedtime_an_hour_past_is_urgent_alone():
    dark = pd.Timestamp("2026-11-19 19:30")  # 4½ hours to midnight: under strong_hours, but a whole evening
    early = electricity("early", stop_at=dark, seed=5)  # lights off at 22:00 nightly; none came on tonight
    late = electricity("late", stop_at=dark, seed=5)  # the same evening; lights off at midnight every night
    hours = late["event_start"].dt.hour
    late.loc[(hours >= 22) & (late["event_start"] < dark), "value"] += 0.6
    assessed = {a.resident: a for a in combine(RULES, evaluate(RULES.rules, context(early, late)), {}, {})}
    hit = assessed["early"].evidence[0]
    assert assessed["early"].tier == "urgent" and hit.facts["strong"]
    assert "就寝時刻を過ぎても" in hit.facts["pattern_ja"] and "usual bedtime" in hit.facts["pattern_en"]
    assert assessed["late"].tier == "high"  # the usual bedtime has not come: an evening out looks the same


def test_a_light_left_on_counts_from_the_half_hour_it_was_left_on_in():
    left_on = pd.Timestamp("2026-11-19 22:00")  # 22:00-24:00: two hours stuck high by the midnight reading
    frame = electricity("a", stop_at=left_on, stuck=1.2)
    assessed = {a.resident: a for a in combine(RULES, evaluate(RULES.rules, context(frame)), {}, {})}
    hit = assessed["a"].evidence[0]
    assert "暖房" in hit.facts["pattern_ja"] and hit.facts["strong"]
    assert assessed["a"].tier == "urgent"


def test_a_hospital_stay_explains_silence_and_says_so():
    frames = (
        electricity("a", stop_at=pd.Timestamp("2026-11-18 09:00")),
        water("a", 0.0),
        pd.DataFrame([event("a", "life", "insurer", "hospital_admission", "2026-11-18 00:00")]),
    )
    ctx = context(*frames)
    explained = absences(RULES, ctx.signals, END, NAMES)
    assert [x.kind for x in explained["a"]] == ["hospital"]
    assert "入院中" in explained["a"][0].text_ja and "さくら生命" in explained["a"][0].text_ja
    assert combine(RULES, evaluate(RULES.rules, ctx), explained, {}) == []
    ctx = context(
        *frames, pd.DataFrame([event("a", "life", "insurer", "hospital_discharge", "2026-11-19 00:00")])
    )
    after = absences(RULES, ctx.signals, END, NAMES)
    assert [(x.kind, x.trend_only) for x in after["a"]] == [("after_hospital", True)]
    assert [x.tier for x in combine(RULES, evaluate(RULES.rules, ctx), after, {})] == ["urgent"]


def test_outcomes_quiet_or_remove():
    frames = (electricity("a", stop_at=pd.Timestamp("2026-11-19 09:00")), water("a", 0.0))
    evidence = evaluate(RULES.rules, context(*frames))
    assert combine(RULES, evidence, {}, {"a": Visit("deceased", dt.date(2026, 11, 19))}) == []
    assert combine(RULES, evidence, {}, {"a": Visit("safe_no_action", dt.date(2026, 11, 20))}) == []
    for before_it in (dt.date(2026, 11, 17), dt.date(2026, 11, 19)):  # the silence began after those lists
        assert [a.tier for a in combine(RULES, evidence, {}, {"a": Visit("safe_no_action", before_it)})] == [
            "urgent"
        ]


def test_a_municipality_overrides_weights_and_tiers(tmp_path: Path):
    (tmp_path / "rules.yaml").write_text(
        "rules: {water_none: {weight: 0.5}}\ntiers: {high: {min_score: 2.5}}\n"
    )
    local = load_rules(tmp_path)
    assert {r.id: r.weight for r in local.rules}["water_none"] == 0.5
    assert local.tiers["high"]["min_score"] == 2.5 and local.version.endswith("+local")
    (tmp_path / "rules.yaml").write_text("rules: {no_such_rule: {weight: 1}}\n")
    with pytest.raises(InputError, match="unknown rules"):
        load_rules(tmp_path)


def test_a_silence_of_several_days_is_still_measured_against_the_life_before_it():
    frames = electricity("a", days=14, stop_at=pd.Timestamp("2026-11-14 10:00"))
    hit = found(context(frames))[("a", "electricity_rhythm_lost")]
    assert hit.facts["hours"] >= 5 * 24


def test_a_quiet_last_hour_alone_is_no_loss_of_rhythm(tmp_path: Path):
    evening = context(electricity("a", stop_at=pd.Timestamp("2026-11-19 22:30")))
    assert found(evening) == {}
    (tmp_path / "rules.yaml").write_text(
        "rules: {electricity_rhythm_lost: {params: {min_hours: 1, min_expected_lively: 0.0}}}\n"
    )
    eager = load_rules(tmp_path)
    assert {e.rule.id for e in evaluate(eager.rules, evening)} == {"electricity_rhythm_lost"}


def test_a_heater_that_wobbles_a_few_percent_is_still_stuck(tmp_path: Path):
    frame = electricity("a", stop_at=pd.Timestamp("2026-11-19 09:00"), stuck=0.7)
    after = frame["event_start"] >= pd.Timestamp("2026-11-19 09:00")
    wobble = np.random.default_rng(5).normal(1.0, 0.02, int(after.sum()))
    frame.loc[~after, "value"] *= 0.3  # a small household: its lively changes are small next to a heater
    frame.loc[after, "value"] = 0.7 * wobble
    hit = found(context(frame))[("a", "electricity_rhythm_lost")]
    assert hit.facts["hours"] >= 14 and "暖房" in hit.facts["pattern_ja"]
    (tmp_path / "rules.yaml").write_text("rules: {electricity_rhythm_lost: {params: {level_share: 0.0}}}\n")
    absolute_only = evaluate(load_rules(tmp_path).rules, context(frame))
    assert all(e.facts["hours"] < 14 for e in absolute_only)  # the wobble reads as life


def test_reading_each_utility_once_finds_what_reading_per_rule_finds():
    frames = (
        electricity("quiet", days=22, stop_at=pd.Timestamp("2026-11-19 09:00")),
        electricity("fading", days=22).assign(
            value=lambda f: f["value"] * np.where(f["event_start"] >= END - pd.Timedelta(days=7), 0.4, 1.0)
        ),
        electricity("fine", days=22, seed=3),
        water("dry", 0.0),
        water("fine", 0.2),
    )
    direct = context(*frames)
    calls: list[tuple[str, pd.Timestamp, bool]] = []

    def counting(utility: str, since: pd.Timestamp, with_slots: bool) -> pd.DataFrame:
        calls.append((utility, since, with_slots))
        return direct.days(utility, since, with_slots)

    once = Context(direct.signals, END, direct.received, NAMES, read_once(RULES.rules, END, counting))
    assert found(once) == found(direct)
    assert {
        ("quiet", "electricity_rhythm_lost"),
        ("fading", "activity_declining"),
        ("dry", "water_none"),
    } <= set(found(direct))
    spans = {(u, (END - since).days, slots) for u, since, slots in calls}
    assert spans == {
        ("electricity", 14, True),
        ("electricity", 21, False),
        ("water", 10, False),
        ("gas", 10, False),
    }
