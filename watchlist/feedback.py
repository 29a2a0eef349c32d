"""Outreach outcomes fed back: which visits still shape the list, and how often each rule was confirmed."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from warehouse.models import Outcome, WatchlistEntry, WatchlistReason

REMOVING = frozenset({"deceased", "moved"})
QUIETING = frozenset({"safe_no_action"})
TAKEN_ON = frozenset({"support_started", "referred_medical"})  # the team has taken the person on
SEEN = QUIETING | TAKEN_ON  # what the visit saw lists nobody again for a while; what came after does
ESCALATING = frozenset({"not_home"})
ADMITTING = frozenset({"hospitalised"})
RESCUING = frozenset({"emergency_called"})  # like an admission: silence explained until a sign of life
# A listing is confirmed when the visit found a real need; safe_no_action, refused, not_home and moved do not.
CONFIRMING = frozenset(
    {"support_started", "referred_medical", "emergency_called", "hospitalised", "deceased"}
)


@dataclass(frozen=True)
class Visit:
    """The latest outreach outcome for a resident that still affects the list."""

    outcome: str
    on: dt.date
    follow_up: dt.date | None = None  # the next check the team set at the visit (次回確認日)


def _quiet_until(visit: Visit, quiet_days: int, support_days: int) -> dt.date:
    """The last list date on which what the visit saw stays quiet.

    The day before the follow-up the team set, when it set one: on that date the evidence counts again.
    Otherwise `support_days` after the visit for a person the team has taken on, `quiet_days` after a
    visit that found them well.
    """
    if visit.follow_up is not None:
        return visit.follow_up - dt.timedelta(days=1)
    return visit.on + dt.timedelta(days=support_days if visit.outcome in TAKEN_ON else quiet_days)


def in_effect(
    latest: dict[str, Visit], run_date: dt.date, quiet_days: int, escalate_days: int, support_days: int
) -> dict[str, Visit]:
    """Visits that still count on the run date: removals, admissions and rescues always, others a while."""
    kept = {}
    for resident, visit in latest.items():
        age = (run_date - visit.on).days
        if (
            visit.outcome in REMOVING | ADMITTING | RESCUING
            or (visit.outcome in SEEN and run_date <= _quiet_until(visit, quiet_days, support_days))
            or (visit.outcome in ESCALATING and age <= escalate_days)
        ):
            kept[resident] = visit
    return kept


def _corrected() -> Select[Any]:
    """Outcomes a same-day correction replaced: history, not evidence."""
    return select(Outcome.corrects).where(Outcome.corrects.is_not(None))


def latest_visits(session: Session, run_date: dt.date) -> dict[str, Visit]:
    """Each resident's most recent outcome visited before the run date (a removal is never undone)."""
    latest: dict[str, Visit] = {}
    query = (
        select(Outcome)
        .where(Outcome.visited_on < run_date, Outcome.id.not_in(_corrected()))
        .order_by(Outcome.visited_on, Outcome.id)
    )
    for o in session.execute(query).scalars():
        if latest.get(o.resident, Visit("", o.visited_on)).outcome not in REMOVING:
            latest[o.resident] = Visit(o.outcome, o.visited_on, o.follow_up_on)
    return latest


@dataclass(frozen=True)
class RuleStanding:
    """How one rule fared: entries citing it, how many got an outcome, and how many were confirmed."""

    rule_id: str
    rule_version: str
    listed: int
    visited: int
    confirmed: int
    safe: int

    @property
    def confirmed_share(self) -> float | None:
        """Confirmed among the listings that got an outcome (None before any)."""
        return self.confirmed / self.visited if self.visited else None


def rule_report(session: Session, since: dt.date | None = None) -> list[RuleStanding]:
    """Per rule and version, the share of its listings since a date that outcomes confirmed."""
    entries = select(WatchlistEntry.entry_id)
    if since is not None:
        entries = entries.where(WatchlistEntry.run_date >= since)
    outcomes: dict[str, set[str]] = defaultdict(set)
    for entry_id, code in session.execute(
        select(Outcome.entry_id, Outcome.outcome).where(
            Outcome.entry_id.in_(entries), Outcome.id.not_in(_corrected())
        )
    ).tuples():
        outcomes[entry_id].add(code)
    cited: dict[tuple[str, str], set[str]] = defaultdict(set)
    for rule_id, version, entry_id in session.execute(
        select(WatchlistReason.rule_id, WatchlistReason.rule_version, WatchlistReason.entry_id).where(
            WatchlistReason.entry_id.in_(entries), WatchlistReason.score > 0
        )
    ).tuples():
        cited[(rule_id, version)].add(entry_id)
    return [
        RuleStanding(
            rule_id,
            version,
            listed=len(ids),
            visited=sum(1 for e in ids if outcomes.get(e)),
            confirmed=sum(1 for e in ids if outcomes.get(e, set()) & CONFIRMING),
            safe=sum(1 for e in ids if outcomes.get(e, set()) & QUIETING),
        )
        for (rule_id, version), ids in sorted(cited.items())
    ]
