"""District-scoped reads and writes for the portal: every query takes the districts the policy granted.

A district outside `districts` behaves exactly like one without data, and an entry outside them exactly
like one that does not exist (None), so a route that forgets a check still cannot reach another district.
Identities come out of the vault only through `watchlist.publish.listing`, which audits each one with the
signed-in user as actor, the entry as subject and the purpose.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.deps import PortalContext
from warehouse.models import Outcome, PipelineRun, WatchlistEntry
from watchlist import outcomes
from watchlist.publish import listing
from watchlist.render import ListedEntry, PublishedList

HISTORY = dt.timedelta(days=90)


@dataclass(frozen=True)
class Past:
    """One earlier listing of the same person."""

    entry_id: str
    run_date: dt.date
    tier: str
    score: float


@dataclass
class EntryView:
    """An entry's page: the listed person, earlier listings and outcomes of the last 90 days."""

    entry: ListedEntry
    run_date: dt.date
    contact: str
    listings: list[Past] = field(default_factory=list)
    outcomes: list[outcomes.RecordedOutcome] = field(default_factory=list)


def list_dates(db: Session, districts: Sequence[str], limit: int = 30) -> list[dt.date]:
    """The newest dates with a list in these districts, newest first."""
    if not districts:
        return []
    found = db.execute(
        select(WatchlistEntry.run_date)
        .where(WatchlistEntry.district_code.in_(list(districts)))
        .group_by(WatchlistEntry.run_date)
        .order_by(WatchlistEntry.run_date.desc())
        .limit(limit)
    ).scalars()
    runs = db.execute(
        select(PipelineRun.run_date)
        .where(PipelineRun.status == "success")
        .group_by(PipelineRun.run_date)
        .order_by(PipelineRun.run_date.desc())
        .limit(limit)
    ).scalars()
    return sorted(set(found) | set(runs), reverse=True)[:limit]


def district_list(
    db: Session,
    context: PortalContext,
    day: dt.date,
    district: str,
    districts: Sequence[str],
    actor: str,
    purpose: str,
) -> PublishedList | None:
    """One granted district's list for a date, re-identified and audited; None outside the grant."""
    if district not in districts:
        return None
    place = context.municipality()
    return listing(
        db,
        context.settings.vault_keys,
        day,
        district,
        place.districts,
        context.partner_names(),
        actor,
        purpose,
        context.capacity(),
    )


def handled(db: Session, entry_ids: Sequence[str]) -> set[str]:
    """Entries with an outcome recorded (対応済み)."""
    if not entry_ids:
        return set()
    return set(db.execute(select(Outcome.entry_id).where(Outcome.entry_id.in_(list(entry_ids)))).scalars())


def scoped_entry(db: Session, entry_id: str, districts: Sequence[str]) -> WatchlistEntry | None:
    """The entry when it lies in a granted district, else None (as if it did not exist)."""
    if not districts:
        return None
    return db.execute(
        select(WatchlistEntry).where(
            WatchlistEntry.entry_id == entry_id, WatchlistEntry.district_code.in_(list(districts))
        )
    ).scalar_one_or_none()


def entry_view(
    db: Session,
    context: PortalContext,
    entry_id: str,
    districts: Sequence[str],
    actor: str,
    purpose: str,
    with_notes: bool = True,
) -> EntryView | None:
    """An entry's page (re-identified and audited), or None when outside the grant or gone from the vault."""
    row = scoped_entry(db, entry_id, districts)
    if row is None:
        return None
    place = context.municipality()
    shown = listing(
        db,
        context.settings.vault_keys,
        row.run_date,
        row.district_code,
        place.districts,
        context.partner_names(),
        actor,
        purpose,
        only=entry_id,
    )
    if not shown.entries:
        return None
    since = row.run_date - HISTORY
    past = db.execute(
        select(WatchlistEntry.entry_id, WatchlistEntry.run_date, WatchlistEntry.tier, WatchlistEntry.score)
        .where(
            WatchlistEntry.resident == row.resident,
            WatchlistEntry.run_date >= since,
            WatchlistEntry.district_code.in_(list(districts)),
        )
        .order_by(WatchlistEntry.run_date.desc())
    ).tuples()
    return EntryView(
        entry=shown.entries[0],
        run_date=row.run_date,
        contact=place.contacts.get(row.district_code, ""),
        listings=[Past(*p) for p in past],
        outcomes=outcomes.history(
            db, context.settings.vault_keys, row.resident, since, actor, with_notes=with_notes
        ),
    )


def record_outcome(
    db: Session,
    context: PortalContext,
    entry_id: str,
    districts: Sequence[str],
    code: str,
    visited_on: dt.date,
    follow_up_on: dt.date | None,
    note: str | None,
    actor: str,
) -> Outcome | None:
    """Record an outcome on a granted entry (None when outside the grant); the visitor is the actor."""
    row = scoped_entry(db, entry_id, districts)
    if row is None:
        return None
    return outcomes.record(
        db, context.settings.vault_keys, row, code, visited_on, follow_up_on, note, actor, context.clock()
    )


def count_entries(db: Session, day: dt.date, districts: Sequence[str]) -> dict[str, int]:
    """Entries per granted district on a date (no identities)."""
    if not districts:
        return {}
    rows = db.execute(
        select(WatchlistEntry.district_code, func.count())
        .where(WatchlistEntry.run_date == day, WatchlistEntry.district_code.in_(list(districts)))
        .group_by(WatchlistEntry.district_code)
    ).tuples()
    return dict(rows.all())
