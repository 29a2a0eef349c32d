"""Append-only, hash-chained audit log: every record carries the previous record's hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warehouse.db import utcnow
from warehouse.models import AuditRecord

GENESIS = "0" * 64


def _digest(seq: int, at: dt.datetime, actor: str, action: str, subject: str, detail: Any, prev: str) -> str:
    body = json.dumps(
        [seq, at.isoformat(timespec="microseconds"), actor, action, subject, detail, prev],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def append(session: Session, actor: str, action: str, subject: str, **detail: Any) -> AuditRecord:
    """Append one audit record (who, what, about which subject) chained to the previous one."""
    last = session.execute(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1)).scalar_one_or_none()
    seq = (last.seq + 1) if last else 1
    prev = last.hash if last else GENESIS
    at = utcnow()
    record = AuditRecord(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        detail=detail,
        prev_hash=prev,
        hash=_digest(seq, at, actor, action, subject, detail, prev),
    )
    session.add(record)
    session.flush()
    return record


@dataclass(frozen=True)
class Verification:
    """The outcome of checking the chain: how many records, and the first broken one if any."""

    records: int
    head: str
    broken_at: int | None
    problem: str | None

    @property
    def ok(self) -> bool:
        """True when every record links to its predecessor and hashes to its stored hash."""
        return self.broken_at is None


def verify(session: Session) -> Verification:
    """Walk the chain from the start and report the first record that does not hold."""
    prev, expected_seq, count = GENESIS, 1, 0
    for record in session.execute(select(AuditRecord).order_by(AuditRecord.seq)).scalars():
        count += 1
        if record.seq != expected_seq:
            return Verification(count, prev, expected_seq, f"record {expected_seq} is missing")
        if record.prev_hash != prev:
            return Verification(count, prev, record.seq, "does not link to the previous record")
        digest = _digest(
            record.seq,
            record.at,
            record.actor,
            record.action,
            record.subject,
            record.detail,
            record.prev_hash,
        )
        if digest != record.hash:
            return Verification(count, prev, record.seq, "content does not match its hash")
        prev, expected_seq = record.hash, expected_seq + 1
    return Verification(count, prev, None, None)


def count(session: Session, action: str | None = None) -> int:
    """How many audit records there are (of one action, if given)."""
    query = select(func.count()).select_from(AuditRecord)
    if action:
        query = query.where(AuditRecord.action == action)
    return int(session.execute(query).scalar_one())
