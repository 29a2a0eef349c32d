"""Collapse rules: days of silence add up, levels for restless homes, and a rescue ends the listing."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from watchlist_frames import BY_ID, END, NAMES, RULES, context, daily, electricity, event, water

from watchlist.combine import absences, combine
from watchlist.evidence import evaluate, rhythm, utility_low, utility_none
from watchlist.feedback import Visit, in_effect

pytestmark = pytest.mark.unit
RECEIVED = ("midori-denki", "suido", "coop", "life", "gas-co", "clinic")


def found(rule_id: str, *frames: pd.DataFrame) -> dict[str, object]:
    rule = BY_ID[rule_id]
    evaluate_rule = {"utility_none": utility_none, "utility_low": utility_low}[rule.kind]
    return {e.resident: e for e in evaluate_rule(rule, context(*frames, received=RECEIVED))}


def test_days_without_water_or_gas_add_up_and_say_how_many():
    hits = found(
        "water_none",
        daily("one", "water", "suido", [0.2] * 7 + [0.0]),
        daily("two", "water", "suido", [0.2] * 7 + [0.0, 0.0]),
        daily("back", "water", "suido", [0.2] * 7 + [0.0, 0.2]),
    )
    assert set(hits) == {"one", "two"}
    assert (hits["one"].facts["days"], hits["one"].weight) == (1, 3.0)
    assert (hits["two"].facts["days"], hits["two"].weight) == (2, 4.0)
    assert hits["one"].facts["strong"]  # a whole day without water is long enough
    assert hits["two"].facts["baseline"] == 0.2  # the baseline is the days before the silence
    text = BY_ID["water_none"].text_ja.format(**hits["two"].facts, partners="上下水道局")
    assert "2日続いて" in text
    gas = found(
        "gas_none",
        daily("one", "gas", "gas-co", [0.5] * 7 + [0.0]),
        daily("three", "gas", "gas-co", [0.5] * 7 + [0.0, 0.0, 0.0]),
    )
    assert not gas["one"].facts["strong"]  # a day without cooking is ordinary
    assert gas["three"].facts["days"] == 3 and gas["three"].facts["strong"] and gas["three"].weight == 5.0


def test_far_less_water_than_the_residents_own_lowest_day_is_found_and_strong_where_water_is_all_there_is():
    hits = found(
        "water_low",
        daily("morning", "water", "suido", [0.2] * 6 + [0.18, 0.05]),  # a morning's use, then nothing
        daily("half", "water", "suido", [0.2] * 6 + [0.18, 0.08]),
        daily("usual", "water", "suido", [0.2] * 6 + [0.18, 0.15]),  # above 0.6 of the lowest day
        daily("none", "water", "suido", [0.2] * 7 + [0.0]),  # water_none's finding, not this rule's
    )
    assert set(hits) == {"morning", "half"}
    assert hits["morning"].facts["strong"] and hits["half"].facts["strong"]  # water is all there is
    assert hits["half"].facts["percent"] == 56  # against the lowest day, 0.18
    with_power = found(
        "water_low",
        daily("morning", "water", "suido", [0.2] * 6 + [0.18, 0.05]),
        daily("half", "water", "suido", [0.2] * 6 + [0.18, 0.08]),
        electricity("half", days=8),  # the half-hours tell an afternoon out from a fall
    )
    assert with_power["morning"].facts["strong"] and not with_power["half"].facts["strong"]


def restless(
    resident: str, stop_at: pd.Timestamp | None = None, seed: int = 1, heater_kwh: float = 0.4
) -> pd.DataFrame:
    """Electricity of a home with a thermostat heater cycling day and night, the person's use on top."""
    frame = electricity(resident, days=10, stop_at=stop_at, seed=seed)
    rng = np.random.default_rng(seed + 10)
    heater = heater_kwh * (rng.random(len(frame)) < 0.5)
    frame["value"] = 0.5 * frame["value"] + heater
    return frame


def test_a_restless_home_is_read_against_its_night_level_and_its_level_is_judged_too():
    stop = END - pd.Timedelta(days=2) + pd.Timedelta(hours=6)  # two days ago at 06:00
    lamp = restless("lamp", stop_at=stop, seed=3)
    lamp.loc[lamp["event_start"] >= stop, "value"] += 0.6  # a light left on, the heater cycling on top
    frames = (
        restless("heater", stop_at=stop),
        restless("living", seed=2),  # the same heater, the person's use goes on
        restless("big heater", stop_at=stop, heater_kwh=3.0),  # the person's use hides in the heater's
        lamp,
        electricity("plain", days=10),
    )
    ctx = context(*frames, received=RECEIVED)
    runs = {e.resident: e for e in rhythm(BY_ID["electricity_rhythm_lost"], ctx)}
    assert set(runs) == {"heater", "lamp"}
    assert runs["heater"].facts["strong"] and runs["heater"].facts["hours"] >= 24
    assert "夜間の機器の水準を超える使用がない" in runs["heater"].facts["pattern_ja"]
    assert runs["lamp"].facts["strong"] and "つけっぱなし" in runs["lamp"].facts["pattern_ja"]
    (why,) = ctx.abstentions  # only the home whose days never rise above the heater's night
    assert (why.resident, why.rule.id, why.reason) == ("big heater", "electricity_rhythm_lost", "weak_rhythm")
    assert why.facts["night_share"] >= 0.15 and why.facts["above_night_per_day"] < 4
    low = {e.resident: e for e in utility_low(BY_ID["electricity_low"], ctx)}
    assert "heater" in low and "plain" not in low  # the plain home is the rhythm rule's alone
    assert low["heater"].facts["days"] == 2 and low["heater"].weight == 3.5
    assert not low["heater"].facts["strong"]
    longer = context(restless("heater", stop_at=END - pd.Timedelta(days=3)), received=RECEIVED)
    rule = BY_ID["electricity_low"]
    looser = replace(
        rule, params={**rule.params, "max_ratio": 0.9}
    )  # this heater's noise hides the first day
    (three,) = utility_low(looser, longer)
    assert three.facts["days"] == 3 and three.facts["strong"]  # three days running: strong alone


def test_an_emergency_call_ends_the_listing_until_a_sign_of_life():
    stop = pd.Timestamp("2026-11-17 09:00")
    frames = [
        electricity("a", stop_at=stop),
        water("a", 0.0),
        pd.DataFrame([event("a", "coop", "delivery", "no_answer", "2026-11-19 10:00")]),
        pd.DataFrame([event("a", "clinic", "clinic", "missed_appointment", "2026-11-19 00:00")]),
    ]
    visits = {"a": Visit("emergency_called", dt.date(2026, 11, 18))}
    assert in_effect(visits, dt.date(2026, 12, 30), 3, 7, 14) == visits  # it holds until new evidence

    def assess(*extra: dict[str, object]) -> dict[str, object]:
        frame = pd.concat([*frames, pd.DataFrame(list(extra))] if extra else frames, ignore_index=True)
        ctx = context(frame, received=RECEIVED)
        explained = absences(RULES, ctx.signals, END, NAMES, visits)
        return {x.resident: x for x in combine(RULES, evaluate(RULES.rules, ctx), explained, visits)}

    assert "a" not in assess()
    explained = absences(RULES, context(*frames, received=RECEIVED).signals, END, NAMES, visits)
    assert [x.kind for x in explained["a"]] == ["rescue"]
    assert "救急要請" in explained["a"][0].text_ja
    bills = (
        event("a", "midori-denki", "utility", "payment_overdue", "2026-11-19 00:00"),
        event("a", "life", "insurer", "premium_overdue", "2026-11-19 00:00"),
    )
    assert "a" not in assess(*bills)  # bills fall due while the resident is in hospital: no new evidence
    home_again = event("a", "coop", "delivery", "handed_over", "2026-11-19 12:00")
    assert "a" in assess(home_again)  # a sign of life after the visit: the silence counts again
