"""What the outreach team found at a visit, recorded against a list entry (the CLI and the eval record it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mimamori.daily import parse_run_date
from mimamori.settings import Settings
from warehouse.db import session_scope, utcnow
from warehouse.errors import InputError, NotFoundError
from warehouse.models import WatchlistEntry
from watchlist.outcomes import OUTCOMES, record


@dataclass(frozen=True)
class Visit:
    """One visit's outcome for a list entry, checked before anything is opened."""

    entry_id: str
    outcome: str
    visited: dt.date
    follow_up: dt.date | None
    note: str | None = None


def visit(
    entry_id: str, outcome: str, visited_on: str, follow_up_on: str | None, note: str | None = None
) -> Visit:
    """A visit from the values as given (dates YYYY-MM-DD), or a clear InputError."""
    if outcome not in OUTCOMES:
        raise InputError(f"unknown outcome {outcome!r}; one of: {', '.join(OUTCOMES)}")
    visited = parse_run_date(visited_on)
    follow = parse_run_date(follow_up_on) if follow_up_on else None
    return Visit(entry_id, outcome, visited, follow, note)


def record_visit(settings: Settings, found: Visit) -> str:
    """Record the visit's outcome against its list entry (audited; a same-day record is corrected)."""
    with session_scope(settings.database_url) as session:
        entry = session.get(WatchlistEntry, found.entry_id)
        if entry is None:
            raise NotFoundError(f"no list entry {found.entry_id}")
        record(
            session,
            settings.vault_keys,
            entry,
            found.outcome,
            found.visited,
            found.follow_up,
            found.note,
            settings.actor,
            utcnow(),
        )
    return f"記録しました / recorded: {found.entry_id} {found.outcome} ({found.visited})"
