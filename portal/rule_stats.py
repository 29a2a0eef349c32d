"""Numbers behind the auditor's rule performance page (no identities: entry ids, rules, tiers, districts).

Per rule: listings, visits and confirmed share per day (per week over a longer span); listings per tier
per day per district; and detection delay for visits that ended with an emergency call (days from the
earliest evidence behind the entry to the day it was listed).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warehouse.models import Outcome, WatchlistEntry, WatchlistReason
from watchlist.feedback import CONFIRMING

EMERGENCY = "emergency_called"
DAILY_SPAN = 31  # up to this many days, one point per day; beyond, one per week


@dataclass(frozen=True)
class RulePoint:
    """One rule in one period: listings citing it, how many got an outcome, how many were confirmed."""

    period: dt.date
    listed: int
    visited: int
    confirmed: int

    @property
    def share(self) -> float | None:
        """Confirmed among the visited (None before any visit)."""
        return self.confirmed / self.visited if self.visited else None


@dataclass(frozen=True)
class Delay:
    """An entry whose visit ended with an emergency call, and how long its evidence waited to be listed."""

    entry_id: str
    run_date: dt.date
    first_evidence: dt.date
    visited_on: dt.date

    @property
    def days(self) -> int:
        """Days from the first evidence to the listing."""
        return (self.run_date - self.first_evidence).days


def _outcomes(db: Session, since: dt.date) -> dict[str, set[str]]:
    corrected = select(Outcome.corrects).where(Outcome.corrects.is_not(None))
    found: dict[str, set[str]] = defaultdict(set)
    rows = db.execute(
        select(Outcome.entry_id, Outcome.outcome)
        .join(WatchlistEntry, WatchlistEntry.entry_id == Outcome.entry_id)
        .where(WatchlistEntry.run_date >= since, Outcome.id.not_in(corrected))
    ).tuples()
    for entry_id, code in rows:
        found[entry_id].add(code)
    return found


def periods(days: list[dt.date]) -> dict[dt.date, dt.date]:
    """Each day's period: itself over a short span, else the Monday of its week."""
    if not days or (max(days) - min(days)).days < DAILY_SPAN:
        return {d: d for d in days}
    return {d: d - dt.timedelta(days=d.weekday()) for d in days}


def rule_points(db: Session, since: dt.date) -> dict[str, list[RulePoint]]:
    """Per "rule vN", a point per period with its listings, visits and confirmations."""
    outcomes = _outcomes(db, since)
    cited: dict[str, dict[dt.date, set[str]]] = defaultdict(lambda: defaultdict(set))
    rows = db.execute(
        select(
            WatchlistReason.rule_id,
            WatchlistReason.rule_version,
            WatchlistEntry.run_date,
            WatchlistEntry.entry_id,
        )
        .join(WatchlistEntry, WatchlistEntry.entry_id == WatchlistReason.entry_id)
        .where(WatchlistEntry.run_date >= since, WatchlistReason.score > 0)
    ).tuples()
    for rule_id, version, day, entry_id in rows:
        cited[f"{rule_id} v{version}"][day].add(entry_id)
    period_of = periods(sorted({d for by_day in cited.values() for d in by_day}))
    result: dict[str, list[RulePoint]] = {}
    for rule, by_day in sorted(cited.items()):
        grouped: dict[dt.date, set[str]] = defaultdict(set)
        for day, ids in by_day.items():
            grouped[period_of[day]] |= ids
        result[rule] = [
            RulePoint(
                period,
                len(ids),
                sum(1 for e in ids if outcomes.get(e)),
                sum(1 for e in ids if outcomes.get(e, set()) & CONFIRMING),
            )
            for period, ids in sorted(grouped.items())
        ]
    return result


def tier_counts(db: Session, since: dt.date) -> dict[str, dict[dt.date, dict[str, int]]]:
    """District -> day -> tier -> listings, every district over the same days (none listed: empty)."""
    found: dict[str, dict[dt.date, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    rows = db.execute(
        select(WatchlistEntry.district_code, WatchlistEntry.run_date, WatchlistEntry.tier, func.count())
        .where(WatchlistEntry.run_date >= since)
        .group_by(WatchlistEntry.district_code, WatchlistEntry.run_date, WatchlistEntry.tier)
    ).tuples()
    for district, day, tier, count in rows:
        found[district][day][tier] = int(count)
    every = sorted({day for days in found.values() for day in days})
    return {d: {day: days.get(day, {}) for day in every} for d, days in sorted(found.items())}


def emergency_delays(db: Session, since: dt.date) -> list[Delay]:
    """Entries whose (uncorrected) outcome was an emergency call, with their first evidence day."""
    corrected = select(Outcome.corrects).where(Outcome.corrects.is_not(None))
    first = (
        select(WatchlistReason.entry_id, func.min(WatchlistReason.evidence_from).label("first"))
        .group_by(WatchlistReason.entry_id)
        .subquery()
    )
    rows = db.execute(
        select(WatchlistEntry.entry_id, WatchlistEntry.run_date, first.c.first, func.min(Outcome.visited_on))
        .join(Outcome, Outcome.entry_id == WatchlistEntry.entry_id)
        .join(first, first.c.entry_id == WatchlistEntry.entry_id)
        .where(
            WatchlistEntry.run_date >= since,
            Outcome.outcome == EMERGENCY,
            Outcome.id.not_in(corrected),
            first.c.first.is_not(None),
        )
        .group_by(WatchlistEntry.entry_id, WatchlistEntry.run_date, first.c.first)
        .order_by(WatchlistEntry.run_date, WatchlistEntry.entry_id)
    ).tuples()
    return [Delay(e, day, began.date(), visited) for e, day, began, visited in rows]
