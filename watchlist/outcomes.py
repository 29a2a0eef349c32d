"""Outreach outcomes: the codes with their Japanese labels, recording (sealed note, same-day correction)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.keys import KeyRing
from identity.vault import seal_bytes, unseal_bytes
from warehouse import audit
from warehouse.errors import InputError
from warehouse.models import Outcome, WatchlistEntry, note_context
from warehouse.vocabulary import JST

OUTCOME_LABELS = {
    "safe_no_action": "安否確認済み（対応不要）",
    "support_started": "支援を開始",
    "referred_medical": "医療機関へつないだ",
    "emergency_called": "救急要請",
    "not_home": "不在",
    "refused": "訪問を拒否された",
    "hospitalised": "入院中",
    "deceased": "死亡",
    "moved": "転居",
}
OUTCOMES = tuple(OUTCOME_LABELS)
NOTE_LIMIT = 2000


@dataclass(frozen=True)
class RecordedOutcome:
    """One outcome as a reader sees it (the note unsealed only when asked for)."""

    id: int
    entry_id: str
    outcome: str
    label: str
    visited_on: dt.date
    follow_up_on: dt.date | None
    recorded_at: dt.datetime
    recorded_by: str
    corrects: int | None
    corrected: bool
    note: str | None


def record(
    session: Session,
    keys: KeyRing,
    entry: WatchlistEntry,
    outcome: str,
    visited_on: dt.date,
    follow_up_on: dt.date | None,
    note: str | None,
    actor: str,
    now: dt.datetime,
) -> Outcome:
    """Record an outcome (audited); one recorded earlier the same day is kept as history and corrected."""
    if outcome not in OUTCOME_LABELS:
        raise InputError(f"unknown outcome {outcome!r}; one of: {', '.join(OUTCOMES)}")
    check_dates(visited_on, follow_up_on, entry.run_date, now)
    text = (note or "").strip()
    if len(text) > NOTE_LIMIT:
        raise InputError(f"メモは{NOTE_LIMIT}文字までです / note longer than {NOTE_LIMIT} characters")
    previous = current(session, entry.entry_id)
    same_day = previous is not None and previous.recorded_at.date() == now.date()
    row = Outcome(
        entry_id=entry.entry_id,
        resident=entry.resident,
        outcome=outcome,
        visited_on=visited_on,
        follow_up_on=follow_up_on,
        recorded_at=now,
        recorded_by=actor,
        note_sealed=seal_bytes(keys, note_context(entry.entry_id), text.encode()) if text else None,
        corrects=previous.id if same_day and previous is not None else None,
    )
    session.add(row)
    session.flush()
    audit.append(
        session,
        actor,
        "outcome_corrected" if row.corrects else "outcome_recorded",
        entry.entry_id,
        outcome=outcome,
        visited_on=visited_on.isoformat(),
        note=bool(text),
    )
    return row


def check_dates(
    visited_on: dt.date, follow_up_on: dt.date | None, list_date: dt.date, now: dt.datetime
) -> None:
    """InputError unless list date <= visited on <= today (JST) and any follow-up is not before the visit."""
    today = jst_today(now)
    if visited_on > today:
        raise InputError(f"訪問日 {visited_on} が未来です / visited_on {visited_on} is after today {today}")
    if visited_on < list_date:
        raise InputError(
            f"訪問日 {visited_on} がリストの日付 {list_date} より前です / "
            f"visited_on {visited_on} is before the list date {list_date}"
        )
    if follow_up_on is not None and follow_up_on < visited_on:
        raise InputError(
            f"次回確認日 {follow_up_on} が訪問日より前です / "
            f"follow_up_on {follow_up_on} is before visited_on {visited_on}"
        )


def jst_today(now: dt.datetime) -> dt.date:
    """Today's date in Japan for a UTC time (naive values are UTC, as utcnow() gives them)."""
    aware = now if now.tzinfo else now.replace(tzinfo=dt.UTC)
    return aware.astimezone(JST).date()


def current(session: Session, entry_id: str) -> Outcome | None:
    """The entry's newest outcome that no correction replaced."""
    corrected = select(Outcome.corrects).where(Outcome.corrects.is_not(None))
    return session.execute(
        select(Outcome)
        .where(Outcome.entry_id == entry_id, Outcome.id.not_in(corrected))
        .order_by(Outcome.recorded_at.desc(), Outcome.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def history(
    session: Session, keys: KeyRing, resident: str, since: dt.date, actor: str, with_notes: bool
) -> list[RecordedOutcome]:
    """A resident's outcomes visited since a date, newest first; notes unsealed (and audited) on request."""
    rows = list(
        session.execute(
            select(Outcome)
            .where(Outcome.resident == resident, Outcome.visited_on >= since)
            .order_by(Outcome.recorded_at.desc(), Outcome.id.desc())
        ).scalars()
    )
    replaced = {r.corrects for r in rows if r.corrects}
    found = []
    for r in rows:
        note = None
        if with_notes and r.note_sealed:
            note = unseal_bytes(keys, note_context(r.entry_id), r.note_sealed).decode()
            audit.append(session, actor, "outcome_note_read", r.entry_id, outcome_id=r.id, purpose="view")
        found.append(
            RecordedOutcome(
                r.id,
                r.entry_id,
                r.outcome,
                OUTCOME_LABELS.get(r.outcome, r.outcome),
                r.visited_on,
                r.follow_up_on,
                r.recorded_at,
                r.recorded_by,
                r.corrects,
                r.id in replaced,
                note,
            )
        )
    return found
