"""Combining evidence into tiers: recency-decayed weights, corroboration, explained absences, outcomes."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from watchlist.evidence import Evidence
from watchlist.rules import TIERS, RuleSet

REMOVING_OUTCOMES = frozenset({"deceased", "moved"})
QUIETING_OUTCOMES = frozenset({"safe_no_action"})


@dataclass(frozen=True)
class Absence:
    """An explained absence (hospital, trip) that lowers silence evidence, and how to say so."""

    kind: str
    factor: float
    since: dt.datetime
    partners: tuple[str, ...]
    text_ja: str
    text_en: str


@dataclass
class Assessment:
    """One resident's combined evidence, absences, score and tier."""

    resident: str
    evidence: list[Evidence] = field(default_factory=list)
    absences: list[Absence] = field(default_factory=list)
    score: float = 0.0
    tier: str | None = None


def absences(
    rules: RuleSet, signals: pd.DataFrame, period_end: pd.Timestamp, names: dict[str, str]
) -> dict[str, list[Absence]]:
    """Explained absences per resident: in hospital (admitted, not yet discharged) or orders skipped ahead."""
    found: dict[str, list[Absence]] = defaultdict(list)
    events = signals.loc[(signals["kind"] == "event") & (signals["event_start"] < period_end)]
    hospital = rules.explanations.get("hospital")
    if hospital:
        stays = events.loc[events["event_type"].isin(hospital["admit"] + hospital["release"])]
        for resident, group in stays.sort_values("event_start").groupby("resident", sort=True):
            last = group.iloc[-1]
            if last["event_type"] in hospital["admit"]:
                found[str(resident)].append(
                    _absence("hospital", hospital, last["event_start"], (last["partner_id"],), names)
                )
    trip = rules.explanations.get("trip")
    if trip:
        start = period_end - pd.Timedelta(days=trip["window_days"])
        skipped = events.loc[
            events["event_type"].isin(trip["event_types"]) & (events["event_start"] >= start)
        ]
        for resident, group in skipped.groupby("resident", sort=True):
            partners = tuple(sorted(group["partner_id"].unique()))
            found[str(resident)].append(_absence("trip", trip, group["event_start"].min(), partners, names))
    return found


def _absence(
    kind: str, spec: dict[str, Any], since: pd.Timestamp, partners: tuple[str, ...], names: dict[str, str]
) -> Absence:
    facts = {"since": f"{since.month}/{since.day}", "partners": "、".join(names.get(p, p) for p in partners)}
    return Absence(
        kind,
        float(spec["silence_factor"]),
        since.to_pydatetime(),
        partners,
        spec["text_ja"].format(**facts),
        spec["text_en"].format(**facts),
    )


def _tier(rules: RuleSet, score: float, channels: int) -> str | None:
    for name in TIERS:
        threshold = rules.tiers[name]
        if score >= threshold["min_score"] and channels >= threshold["min_channels"]:
            return name
    return None


def combine(
    rules: RuleSet,
    evidence: list[Evidence],
    explained: dict[str, list[Absence]],
    outcomes: dict[str, tuple[str, dt.date]],
) -> list[Assessment]:
    """Score each resident: silence evidence scaled by absences, quieted by a recent safe visit; tier it."""
    by_resident: dict[str, list[Evidence]] = defaultdict(list)
    for item in evidence:
        by_resident[item.resident].append(item)
    assessed = []
    for resident in sorted(by_resident):
        outcome = outcomes.get(resident)
        if outcome and outcome[0] in REMOVING_OUTCOMES:
            continue
        items = by_resident[resident]
        if outcome and outcome[0] in QUIETING_OUTCOMES:
            visited = dt.datetime.combine(outcome[1], dt.time()) + dt.timedelta(days=1)
            items = [e for e in items if e.start >= visited]
        absent = explained.get(resident, [])
        factor = min((a.factor for a in absent), default=1.0)
        scaled = [replace(e, weight=round(e.weight * factor, 2)) if e.rule.silence else e for e in items]
        kept = [e for e in scaled if e.weight > 0]
        score = round(sum(e.weight for e in kept), 2)
        channels = len(frozenset().union(*(e.channels for e in kept if e.rule.silence)))
        tier = _tier(rules, score, channels)
        if tier is not None:
            assessed.append(Assessment(resident, kept, absent, score, tier))
    return assessed
