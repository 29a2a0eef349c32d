"""Combining evidence into tiers: recency-decayed weights, corroboration, explained absences, outcomes."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from watchlist.evidence import Evidence
from watchlist.feedback import ADMITTING, ESCALATING, REMOVING, RESCUING, SEEN, Visit
from watchlist.rules import TIERS, RuleSet

DAY = pd.Timedelta(days=1)
TRENDS = frozenset({"trend", "usage_trend", "agreement"})  # slow declines: a recent absence explains them too


@dataclass(frozen=True)
class Absence:
    """An explained absence (hospital, trip) or a visit's finding, and how it changes silence evidence."""

    kind: str
    factor: float
    since: dt.datetime
    partners: tuple[str, ...]
    text_ja: str
    text_en: str
    trend_only: bool = False  # after a stay: explains slow declines, not today's silence
    until: dt.datetime | None = None  # a stay's end (discharge); None while it lasts
    stay_from: dt.datetime | None = None  # a stay's admission: findings inside the stay are explained
    stay_rules: frozenset[str] = frozenset()  # rules (missed clinic visits...) a stay explains
    stay_factor: float = 1.0


@dataclass
class Assessment:
    """One resident's combined evidence, absences and notes, score and tier."""

    resident: str
    evidence: list[Evidence] = field(default_factory=list)
    absences: list[Absence] = field(default_factory=list)
    score: float = 0.0
    tier: str | None = None


def absences(
    rules: RuleSet,
    signals: pd.DataFrame,
    period_end: pd.Timestamp,
    names: dict[str, str],
    visits: dict[str, Visit] | None = None,
) -> dict[str, list[Absence]]:
    """Explained absences per resident: in hospital (insurer or visit) until released, or orders skipped."""
    found: dict[str, list[Absence]] = defaultdict(list)
    events = signals.loc[(signals["kind"] == "event") & (signals["event_start"] < period_end)]
    hospital = rules.explanations.get("hospital")
    if hospital:
        stays = events.loc[events["event_type"].isin(hospital["admit"] + hospital["release"])]
        recovery = pd.Timedelta(days=hospital.get("recovery_days", 0))
        explains = frozenset(hospital.get("explains_rules", ()))
        stay_factor = float(hospital["silence_factor"])
        for resident, group in stays.sort_values("event_start").groupby("resident", sort=True):
            last = group.iloc[-1]
            admits = group.loc[group["event_type"].isin(hospital["admit"]), "event_start"]
            if last["event_type"] in hospital["admit"]:
                stay = _absence("hospital", hospital, last["event_start"], (last["partner_id"],), names)
                found[str(resident)].append(
                    replace(stay, stay_from=stay.since, stay_rules=explains, stay_factor=stay_factor)
                )
            elif last["event_start"] >= period_end - recovery:
                after = _absence(
                    "after_hospital", hospital, last["event_start"], (last["partner_id"],), names, "after_"
                )
                admitted = admits.loc[admits <= last["event_start"]]
                found[str(resident)].append(
                    replace(
                        after,
                        trend_only=True,
                        until=after.since,
                        stay_from=admitted.max().to_pydatetime() if not admitted.empty else None,
                        stay_rules=explains,
                        stay_factor=stay_factor,
                    )
                )
        for resident, visit in sorted((visits or {}).items()):
            if visit.outcome in ADMITTING | RESCUING and not _alive_since(
                events, resident, visit.on, hospital
            ):
                since = pd.Timestamp(visit.on)
                kind, key = ("rescue", "rescue_") if visit.outcome in RESCUING else ("hospital", "visit_")
                stay = _absence(kind, hospital, since, (), names, key=key)
                found[resident].append(
                    replace(stay, stay_from=stay.since, stay_rules=explains, stay_factor=stay_factor)
                )
    trip = rules.explanations.get("trip")
    if trip:
        _trips(trip, events, period_end, names, found)
    life = rules.explanations.get("life")
    if life:
        _signs_of_life(life, events, names, found)
    return found


def _signs_of_life(
    spec: dict[str, Any], events: pd.DataFrame, names: dict[str, str], found: dict[str, list[Absence]]
) -> None:
    """Each resident's latest sign of life (a delivery handed over, a clinic visit).

    Silence before it is explained; combination uses it only where it contradicts silence evidence (see
    `_contradicted`), and notes it then.
    """
    signs = events.loc[events["event_type"].isin(spec["event_types"])]
    if signs.empty:
        return
    latest = signs.sort_values(["event_start", "partner_id"]).groupby("resident", sort=True).tail(1)
    for row in latest.itertuples(index=False):
        found[str(row.resident)].append(
            _absence("life", spec, row.event_start, (str(row.partner_id),), names, stamp=True)
        )


def _alive_since(events: pd.DataFrame, resident: str, day: dt.date, spec: dict[str, Any]) -> bool:
    """A discharge or a sign of life (a delivery handed over, a clinic visit) after the day of a visit."""
    after = events.loc[(events["resident"] == resident) & (events["event_start"] >= pd.Timestamp(day) + DAY)]
    return bool(after["event_type"].isin(spec["release"] + spec["signs_of_life"]).any())


def _trips(
    spec: dict[str, Any],
    events: pd.DataFrame,
    period_end: pd.Timestamp,
    names: dict[str, str],
    found: dict[str, list[Absence]],
) -> None:
    """Orders skipped ahead: the resident's latest delivery events in the window are all skips."""
    window = events.loc[
        (events["sector"] == "delivery")
        & (events["event_type"].isin(spec["event_types"] + spec["breaks"]))
        & (events["event_start"] >= period_end - pd.Timedelta(days=spec["window_days"]))
    ]
    skipped = window["event_type"].isin(spec["event_types"])
    last_break = window.loc[~skipped].groupby("resident")["event_start"].max()
    skips = window.loc[skipped]
    before = pd.Series(pd.NaT, index=skips.index, dtype=skips["event_start"].dtype)
    if not last_break.empty:
        before = skips["resident"].map(last_break).astype(skips["event_start"].dtype)
    trailing = skips.loc[before.isna() | (skips["event_start"] > before)]
    for resident, tail in trailing.groupby("resident", sort=True):
        partners = tuple(sorted(tail["partner_id"].unique()))
        found[str(resident)].append(_absence("trip", spec, tail["event_start"].min(), partners, names))


def _absence(
    kind: str,
    spec: dict[str, Any],
    since: pd.Timestamp,
    partners: tuple[str, ...],
    names: dict[str, str],
    key: str = "",
    stamp: bool = False,
) -> Absence:
    factor = (
        float(spec[f"{key}silence_factor"])
        if f"{key}silence_factor" in spec
        else float(spec["silence_factor"])
    )
    when = f"{since.month}/{since.day}" + (f" {since:%H:%M}" if stamp and since != since.normalize() else "")
    facts = {"since": when, "partners": "、".join(names.get(p, p) for p in partners)}
    return Absence(
        kind,
        factor,
        since.to_pydatetime(),
        partners,
        spec[f"{key}text_ja"].format(**facts),
        spec[f"{key}text_en"].format(**{**facts, "partners": ", ".join(partners)}),
    )


def _tier(rules: RuleSet, score: float, channels: int, strong: bool) -> str | None:
    """The first tier whose score and channels hold; with `strong_alone`, one strong finding is enough."""
    for name in TIERS:
        threshold = rules.tiers[name]
        if score >= threshold["min_score"] and channels >= threshold["min_channels"]:
            return name
        if strong and threshold.get("strong_alone") and score >= threshold.get("strong_min_score", 0.0):
            return name
    return None


def _floor(tier: str | None, kept: list[Evidence], absent: list[Absence]) -> str | None:
    """At least the `tier_floor` of a finding (declines agreeing in two areas: high), unless explained."""
    floors = [str(e.rule.params["tier_floor"]) for e in kept if e.rule.params.get("tier_floor")]
    if not floors or absent:
        return tier
    best = min(TIERS.index(f) for f in floors)
    return TIERS[min(best, TIERS.index(tier))] if tier is not None else TIERS[best]


def _strong(e: Evidence) -> bool:
    """A finding strong enough alone: long and unexplained (no absence or stay has scaled it down)."""
    return bool(e.facts.get("strong")) and e.rule.silence and e.weight >= e.rule.weight


def _escalation(rules: RuleSet, visit: Visit) -> Absence:
    spec = rules.feedback["not_home"]
    facts = {"since": f"{visit.on.month}/{visit.on.day}"}
    moment = dt.datetime.combine(visit.on, dt.time())
    return Absence(
        "visit_not_home", 1.0, moment, (), spec["text_ja"].format(**facts), spec["text_en"].format(**facts)
    )


def _within_stay(e: Evidence, absent: list[Absence]) -> Evidence:
    """A finding whose facts all fall inside a hospital stay (a visit missed while admitted) is explained."""
    for a in absent:
        if (
            e.rule.id in a.stay_rules
            and a.stay_from is not None
            and e.start >= a.stay_from
            and (a.until is None or e.end <= a.until)
        ):
            return replace(e, weight=round(e.weight * a.stay_factor, 2))
    return e


def _contradicted(e: Evidence, life: Absence | None, spec: dict[str, Any]) -> bool:
    """Whether a later sign of life explains a silence in readings (electricity, water, gas).

    The silence began before the sign of life and what remains of it after the sign of life is shorter
    than `min_hours_after`: a day's total cannot say when in the day the use stopped. A quiet run in
    half-hourly readings (kind `rhythm`) can: `min_hours_after_run` of it after the sign of life still
    count. Counted events (no answer at the door) are not explained this way: a declining resident
    misses deliveries and still answers now and then.
    """
    if life is None or e.rule.id not in spec.get("explains_rules", ()) or e.start >= life.since:
        return False
    remaining = (e.end - life.since).total_seconds() / 3600
    timed = e.rule.kind == "rhythm" and "min_hours_after_run" in spec
    return remaining < float(spec["min_hours_after_run"] if timed else spec.get("min_hours_after", 0))


def combine(
    rules: RuleSet,
    evidence: list[Evidence],
    explained: dict[str, list[Absence]],
    visits: dict[str, Visit],
) -> list[Assessment]:
    """Score and tier each resident: absences scale silence, visits quiet, escalate or remove."""
    by_resident: dict[str, list[Evidence]] = defaultdict(list)
    for item in evidence:
        by_resident[item.resident].append(item)
    assessed = []
    for resident in sorted(by_resident):
        visit = visits.get(resident)
        if visit and visit.outcome in REMOVING:
            continue
        items = by_resident[resident]
        found = explained.get(resident, [])
        if visit and (visit.outcome in SEEN or any(a.kind == "rescue" for a in found)):
            # the team saw the list of the visit day, built from data up to that midnight
            seen_until = dt.datetime.combine(visit.on, dt.time())
            items = [e for e in items if e.news >= seen_until]
        lives = [a for a in found if a.kind == "life"]
        absent = [a for a in found if a.kind != "life"]
        factor = min((a.factor for a in absent if not a.trend_only), default=1.0)
        trend_factor = min((a.factor for a in absent), default=1.0)
        scaled = [
            replace(e, weight=round(e.weight * (trend_factor if e.rule.kind in TRENDS else factor), 2))
            if e.rule.silence or e.rule.kind in TRENDS
            else e
            for e in items
        ]
        scaled = [_within_stay(e, absent) for e in scaled]
        life = max(lives, key=lambda a: a.since, default=None)
        life_spec = rules.explanations.get("life", {})
        contradicted = [_contradicted(e, life, life_spec) for e in scaled]
        used = [life] if life is not None and any(contradicted) else []
        scaled = [
            replace(e, weight=round(e.weight * life.factor, 2)) if hit and life is not None else e
            for e, hit in zip(scaled, contradicted, strict=True)
        ]
        kept = [e for e in scaled if e.weight > 0]
        score = round(sum(e.weight for e in kept), 2)
        channels = len(frozenset().union(*(e.channels for e in kept if e.rule.silence)))
        tier = _floor(_tier(rules, score, channels, any(_strong(e) for e in kept)), kept, absent)
        if tier is None:
            continue
        notes = [*absent, *used]
        explained_now = any(not a.trend_only for a in absent)  # nobody home is what a trip predicts
        if visit and visit.outcome in ESCALATING and channels > 0 and not explained_now:
            tier = TIERS[max(TIERS.index(tier) - 1, 0)]
            notes.append(_escalation(rules, visit))
        assessed.append(Assessment(resident, kept, notes, score, tier))
    return assessed
