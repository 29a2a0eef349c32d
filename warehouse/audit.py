"""Append-only, hash-chained audit log: every record carries the previous record's hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
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


CHECKPOINTS = "checkpoints.jsonl"


def _signer(seed: bytes) -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(seed)


def checkpoint(session: Session, folder: Path, key_id: str, seed: bytes) -> dict[str, Any] | None:
    """Append a signed checkpoint (log size, head hash) outside the database when the log has grown."""
    size, head = _head(session)
    path = folder / CHECKPOINTS
    last = _last_checkpoint(path)
    if last is not None and last["size"] == size and last["head"] == head:
        return None
    body = {"size": size, "head": head, "at": utcnow().isoformat(timespec="seconds") + "Z", "key_id": key_id}
    message = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    signed = {**body, "signature": _signer(seed).sign(message).hex()}
    folder.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(signed, sort_keys=True) + "\n")
    return signed


def _last_checkpoint(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    last: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    return last or None


def verify_checkpoint(session: Session, folder: Path, seeds: dict[str, bytes]) -> str | None:
    """None when the log still holds the newest signed checkpoint; otherwise what is wrong."""
    from cryptography.exceptions import InvalidSignature

    last = _last_checkpoint(folder / CHECKPOINTS)
    if last is None:
        return None
    body = {k: v for k, v in last.items() if k != "signature"}
    seed = seeds.get(str(last.get("key_id")))
    if seed is None:
        return f"checkpoint signed with unknown key {last.get('key_id')!r}"
    try:
        _signer(seed).public_key().verify(
            bytes.fromhex(last["signature"]), json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        )
    except (InvalidSignature, ValueError):
        return "the newest checkpoint's signature does not verify"
    size, _ = _head(session)
    if size < last["size"]:
        return (
            f"log truncated: the checkpoint of {last['at']} counts {last['size']} records, the log has {size}"
        )
    record = session.get(AuditRecord, last["size"]) if last["size"] else None
    if last["size"] and (record is None or record.hash != last["head"]):
        return f"record {last['size']} no longer matches the signed checkpoint"
    return None
