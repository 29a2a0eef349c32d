"""Withdrawal and expiry that really remove: purge the person from the working data, keep a tombstone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from consent.book import ConsentBook
from warehouse import audit
from warehouse.db import utcnow
from warehouse.models import (
    ConsentRecord,
    ConsentTombstone,
    HeldRows,
    IdentityVault,
    LineageLink,
    LinkMemory,
    LinkReview,
    ReadingDay,
    Signal,
    WatchlistEntry,
    WatchlistReason,
    WatchPopulation,
)


@dataclass(frozen=True)
class Purge:
    """Who was purged (pseudonyms only) and how many signals went with them."""

    residents: tuple[str, ...]
    signals: int


def ended_residents(book: ConsentBook, run_date: dt.date) -> dict[str, tuple[str, dt.date]]:
    """Residents whose every consent was withdrawn or has expired by the date: why and since when."""
    ended = {}
    for resident in sorted(book.residents()):
        if book.in_force(resident, run_date) is not None:
            continue
        last = book.ending(resident, run_date)
        if last is not None:
            ended[resident] = last
    return ended


def purge(session: Session, book: ConsentBook, run_date: dt.date, actor: str) -> Purge:
    """Remove ended residents' signals, scores, later entries, links and identity; keep tombstones."""
    ended = ended_residents(book, run_date)
    removed = 0
    for resident, (reason, ended_on) in ended.items():
        removed += _purge_one(session, resident, reason, ended_on)
        audit.append(session, actor, "purge", resident, reason=reason, ended_on=ended_on.isoformat())
    session.flush()
    return Purge(tuple(ended), removed)


def _purge_one(session: Session, resident: str, reason: str, ended_on: dt.date) -> int:
    signals = session.execute(
        select(func.count()).select_from(Signal).where(Signal.resident == resident)
    ).scalar_one()
    session.execute(delete(Signal).where(Signal.resident == resident))
    session.execute(delete(ReadingDay).where(ReadingDay.resident == resident))
    later = list(
        session.execute(
            select(WatchlistEntry.entry_id).where(
                WatchlistEntry.resident == resident, WatchlistEntry.run_date >= ended_on
            )
        ).scalars()
    )
    session.execute(delete(WatchlistReason).where(WatchlistReason.entry_id.in_(later)))
    session.execute(delete(LineageLink).where(LineageLink.entry_id.in_(later)))
    session.execute(delete(WatchlistEntry).where(WatchlistEntry.entry_id.in_(later)))
    session.execute(delete(WatchPopulation).where(WatchPopulation.resident == resident))
    session.execute(delete(IdentityVault).where(IdentityVault.resident == resident))
    # remembered customers stay as keyed hashes only (no pseudonym), so their later rows are dropped
    session.execute(
        update(LinkMemory).where(LinkMemory.resident == resident).values(decision=reason, resident=None)
    )
    reviews = list(session.execute(select(LinkReview.id).where(LinkReview.candidate == resident)).scalars())
    session.execute(delete(HeldRows).where(HeldRows.review_id.in_(reviews)))
    session.execute(delete(LinkReview).where(LinkReview.id.in_(reviews)))
    for record in session.execute(select(ConsentRecord).where(ConsentRecord.resident == resident)).scalars():
        if session.get(ConsentTombstone, record.consent_id) is None:
            session.add(
                ConsentTombstone(
                    consent_id=record.consent_id,
                    resident=resident,
                    granted_on=record.granted_on,
                    ended_on=ended_on,
                    reason=reason,
                    purged_at=utcnow(),
                )
            )
    session.flush()
    session.execute(delete(ConsentRecord).where(ConsentRecord.resident == resident))
    return int(signals)
