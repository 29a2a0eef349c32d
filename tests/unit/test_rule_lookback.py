"""Each reading rule reads exactly the days its lookback says, a lookback derived from the rule's params."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from warehouse.load import SIGNAL_COLUMNS
from watchlist import kinds
from watchlist.evidence import Context, event_days, lookback, read_once
from watchlist.rules import Rule, load_rules

pytestmark = pytest.mark.unit

END = pd.Timestamp("2026-11-20")
READING_KINDS = ("rhythm", "utility_none", "utility_low", "usage_trend")
EMPTY = pd.DataFrame(
    {
        "resident": pd.Series(dtype=object),
        "day": pd.Series(dtype="datetime64[ns]"),
        "total": pd.Series(dtype=float),
        "delivery_pk": pd.Series(dtype=int),
    }
)


def asked(rule: Rule) -> list[tuple[str, int, bool]]:
    """What the rule's evaluator asks of the day reader: (utility, days before the period end, slots)."""
    calls: list[tuple[str, int, bool]] = []

    def days(utility: str, since: pd.Timestamp, with_slots: bool) -> pd.DataFrame:
        calls.append((utility, (END.normalize() - since).days, with_slots))
        return EMPTY.assign(slots=[]) if with_slots else EMPTY

    signals = pd.DataFrame({name: pd.Series(dtype=object) for name in ("delivery_pk", *SIGNAL_COLUMNS)})
    signals["event_start"] = pd.Series(dtype="datetime64[ns]")
    ctx = Context(signals, END, frozenset(), {}, days)
    if rule.kind in kinds.AGREEMENTS:  # reads the other rules' evidence, never the context
        list(kinds.AGREEMENTS[rule.kind](rule, []))
    else:
        list(kinds.READERS[rule.kind](rule, ctx))
    return calls


def reading_rules() -> list[Rule]:
    """The shipped reading rules, and each again with every window parameter changed."""
    shipped = [r for r in load_rules().rules if r.kind in READING_KINDS]
    assert {r.kind for r in shipped} == set(READING_KINDS)
    wider = [
        replace(r, params={**r.params, **{k: v + 3 for k, v in r.params.items() if k.endswith("_days")}})
        for r in shipped
    ]
    return shipped + wider


@pytest.mark.parametrize("rule", reading_rules(), ids=lambda r: f"{r.id}:{r.params}")
def test_a_reading_rule_reads_exactly_its_lookback(rule: Rule):
    span = lookback(rule)
    assert span is not None
    assert asked(rule) == [(rule.params["utility"], span.days, span.slots)]


def test_rules_over_events_read_no_days():
    for rule in load_rules().rules:
        if rule.kind not in READING_KINDS:
            assert lookback(rule) is None and asked(rule) == []


def test_the_shared_reader_reads_the_widest_lookback_of_a_utility_once():
    rules = [r for r in reading_rules() if r.params["utility"] == "electricity"]
    reads: list[tuple[int, bool]] = []

    def days(utility: str, since: pd.Timestamp, with_slots: bool) -> pd.DataFrame:
        reads.append(((END.normalize() - since).days, with_slots))
        return EMPTY.assign(slots=[]) if with_slots else EMPTY

    read_once(tuple(rules), END, days)("electricity", END - pd.Timedelta(days=1), False)
    spans = [s for s in map(lookback, rules) if s is not None]
    slotted = max(s.days for s in spans if s.slots)
    widest = max(s.days for s in spans)
    assert reads == [(slotted, True)] + ([(widest, False)] if widest > slotted else [])


def test_signals_are_read_back_as_far_as_the_longest_event_window():
    """A 60-day window (a spouse's death claim) is read whole, not cut at a fixed lookback."""
    rules = load_rules()
    windows = {
        r.id: r.params["window_days"] * (2 if r.kind == "trend" else 1)
        for r in rules.rules
        if r.kind in ("events", "trend")
    }
    assert windows["newly_alone"] == 60
    assert event_days(rules) == max(windows.values())
    longer = replace(
        rules,
        rules=tuple(
            replace(r, params={**r.params, "window_days": 90}) if r.id == "newly_alone" else r
            for r in rules.rules
        ),
    )
    assert event_days(longer) == 90
