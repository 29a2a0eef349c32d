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


_HEAD = "audit_head"


def _innermost(session: Session) -> Any:
    return session.get_nested_transaction() or session.get_transaction()


def _head(session: Session) -> tuple[int, str]:
    """The chain's last sequence number and hash, as this transaction sees it.

    Remembered per innermost transaction, so a thousand appends in one import read the head once; a new
    transaction or savepoint reads it again (the seq primary key still refuses a concurrent fork).
    """
    known = session.info.get(_HEAD)
    if known is not None and known[0] is _innermost(session):
        return known[1], known[2]
    last = session.execute(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1)).scalar_one_or_none()
    return (last.seq, last.hash) if last else (0, GENESIS)


def append(session: Session, actor: str, action: str, subject: str, **detail: Any) -> AuditRecord:
    """Append one audit record (who, what, about which subject) chained to the previous one."""
    last_seq, prev = _head(session)
    seq = last_seq + 1
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
    session.info[_HEAD] = (_innermost(session), seq, record.hash)
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
    return walk(session, 0, GENESIS)


def walk(session: Session, after: int, after_hash: str) -> Verification:
    """Walk the chain from the record after `after` (whose hash is `after_hash`) to the head."""
    prev, expected_seq, count = after_hash, after + 1, 0
    query = select(AuditRecord).where(AuditRecord.seq > after).order_by(AuditRecord.seq)
    for record in session.execute(query).scalars():
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


def head(session: Session) -> tuple[int, str]:
    """The committed log's last sequence number and hash (0 and the genesis hash when empty)."""
    last = session.execute(
        select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc()).limit(1)
    ).first()
    return (int(last[0]), str(last[1])) if last else (0, GENESIS)


def hashes(session: Session, seqs: set[int]) -> dict[int, str]:
    """The stored hash of each of these records that still exists."""
    wanted, found = sorted(seqs), {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        query = select(AuditRecord.seq, AuditRecord.hash).where(AuditRecord.seq.in_(chunk))
        found.update({int(seq): str(value) for seq, value in session.execute(query).tuples()})
    return found


def count(session: Session, action: str | None = None) -> int:
    """How many audit records there are (of one action, if given)."""
    query = select(func.count()).select_from(AuditRecord)
    if action:
        query = query.where(AuditRecord.action == action)
    return int(session.execute(query).scalar_one())
