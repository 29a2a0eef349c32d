"""Signed checkpoints of the audit log (size and head hash), kept outside the database.

A checkpoint is written only over a log that still holds the previous one (the log only grows, and the
record at the old size still has the old head), so tampering is never signed over by the next command.
Verifying needs the Ed25519 public keys only; the private seeds stay with the workers that sign.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy.orm import Session

from identity.keys import KeyRing
from warehouse import audit
from warehouse.db import utcnow
from warehouse.errors import AuditLogError, InputError

CHECKPOINTS = "checkpoints.jsonl"
PUBLIC_KEYS = "public.keys"
LOCK = "checkpoints.lock"
BODY = ("size", "head", "at", "key_id")


def public_key(seed: bytes) -> bytes:
    """The raw Ed25519 public key of a 32-byte signing seed."""
    return (
        Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    )


def public_keys(ring: KeyRing) -> dict[str, bytes]:
    """The public key of every seed in a signing key ring, by key id."""
    return {key_id: public_key(seed) for key_id, seed in ring.keys.items()}


def _message(checkpoint: dict[str, Any]) -> bytes:
    body = {k: checkpoint[k] for k in BODY}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _signature_problem(checkpoint: dict[str, Any], keys: dict[str, bytes]) -> str | None:
    raw = keys.get(str(checkpoint.get("key_id")))
    if raw is None:
        return f"signed with unknown key {checkpoint.get('key_id')!r} (see MIMAMORI_AUDIT_PUBLIC_KEYS)"
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(
            bytes.fromhex(str(checkpoint.get("signature"))), _message(checkpoint)
        )
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return "its signature does not verify"
    return None


@contextmanager
def _locked(folder: Path, exclusive: bool) -> Iterator[None]:
    """Hold the checkpoint lock (exclusive to write, shared to read) across processes on this machine."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def _load(folder: Path) -> tuple[list[dict[str, Any]], str | None]:
    """Every checkpoint in order, or the first line that is not one."""
    path = folder / CHECKPOINTS
    if not path.exists():
        return [], None
    found: list[dict[str, Any]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict) or not all(k in item for k in (*BODY, "signature")):
                raise ValueError(line)
            item["size"] = int(item["size"])
        except ValueError:
            return found, f"line {number} of {CHECKPOINTS} is not a checkpoint"
        found.append(item)
    return found, None


def _stored(session: Session, size: int) -> str | None:
    """The hash the log holds at this size (the genesis hash at 0), or None when the record is gone."""
    return audit.hashes(session, {size}).get(size) if size else audit.GENESIS


def _truncated(checkpoint: dict[str, Any], size: int) -> str:
    return (
        f"log truncated: the checkpoint of {checkpoint['at']} counts {checkpoint['size']} records, "
        f"the log has {size}"
    )


def _extends(session: Session, previous: dict[str, Any]) -> str | None:
    """None when the log still holds the previous checkpoint and every record after it chains on."""
    size, _ = audit.head(session)
    if size < previous["size"]:
        return _truncated(previous, size)
    stored = _stored(session, previous["size"])
    if stored != previous["head"]:
        return f"record {previous['size']} no longer matches the signed checkpoint of {previous['at']}"
    walked = audit.walk(session, previous["size"], previous["head"])
    if not walked.ok:
        return f"record {walked.broken_at} after the checkpoint of {previous['at']}: {walked.problem}"
    return None


def checkpoint(
    session: Session, folder: Path, signer: KeyRing, keys: dict[str, bytes], only_empty: bool = False
) -> dict[str, Any] | None:
    """Sign the log's size and head once it verifies against the previous checkpoint; AuditLogError if not.

    The session must be fresh: its first read happens under the lock, so it sees every signed append.
    With only_empty, sign only an empty log that has no checkpoint yet (a new warehouse) and never raise.
    """
    with _locked(folder, exclusive=True):
        found, problem = _load(folder)
        if only_empty and (found or problem):
            return None
        size, head = audit.head(session)
        if only_empty and size:
            return None
        if problem is None and found:
            previous = found[-1]
            problem = _signature_problem(previous, keys)
            problem = f"the newest checkpoint: {problem}" if problem else _extends(session, previous)
            if problem is None and (previous["size"], previous["head"]) == (size, head):
                return None
        elif problem is None and size:
            problem = f"the log holds {size} records but there is no signed checkpoint"
        if problem:
            raise AuditLogError(
                f"監査ログが改ざんされています。署名しません / audit log altered, not signed: {problem}"
            )
        body = {"size": size, "head": head, "at": utcnow().isoformat(timespec="seconds") + "Z"}
        signed = {**body, "key_id": signer.current_id}
        signed["signature"] = (
            Ed25519PrivateKey.from_private_bytes(signer.current).sign(_message(signed)).hex()
        )
        _append(folder, signed)
        _publish_keys(folder, public_keys(signer))
        return signed


def start(session: Session, folder: Path, signer: KeyRing, keys: dict[str, bytes]) -> None:
    """Sign the empty log when a warehouse starts without checkpoints (a non-empty one is left to verify)."""
    if not (folder / CHECKPOINTS).exists():
        checkpoint(session, folder, signer, keys, only_empty=True)


def _append(folder: Path, signed: dict[str, Any]) -> None:
    fd = os.open(folder / CHECKPOINTS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(signed, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _publish_keys(folder: Path, keys: dict[str, bytes]) -> None:
    """Write the public keys beside the checkpoints, for readers to copy into their configuration."""
    text = ",".join(f"{key_id}:{base64.b64encode(raw).decode()}" for key_id, raw in keys.items()) + "\n"
    path = folder / PUBLIC_KEYS
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        staging = path.with_name(PUBLIC_KEYS + ".new")
        staging.write_text(text, encoding="utf-8")
        staging.replace(path)


def verify(session: Session, folder: Path, keys: dict[str, bytes]) -> str | None:
    """None when every checkpoint is signed, none goes back and the log still holds each; else why not."""
    with _locked(folder, exclusive=False):
        found, problem = _load(folder)
    if problem:
        return problem
    size, _ = audit.head(session)
    if not found:
        return f"the log holds {size} records but there is no signed checkpoint" if size else None
    previous = 0
    for number, item in enumerate(found, 1):
        problem = _signature_problem(item, keys)
        if problem:
            return f"checkpoint {number} of {item['at']}: {problem}"
        if item["size"] < previous:
            return f"checkpoint {number} of {item['at']} counts fewer records than the one before it"
        previous = item["size"]
    newest = found[-1]
    if size < newest["size"]:
        return _truncated(newest, size)
    stored = {0: audit.GENESIS, **audit.hashes(session, {item["size"] for item in found})}
    for number, item in enumerate(found, 1):
        if stored.get(item["size"]) != item["head"]:
            return f"record {item['size']} no longer matches the signed checkpoint {number} of {item['at']}"
    return None


def export_head(folder: Path) -> dict[str, Any]:
    """The newest signed checkpoint as an auditor keeps it outside the system."""
    with _locked(folder, exclusive=False):
        found, problem = _load(folder)
    if problem or not found:
        raise AuditLogError(problem or "there is no signed checkpoint to export yet")
    newest = found[-1]
    return {
        "sequence": newest["size"],
        "hash": newest["head"],
        "at": newest["at"],
        "key_id": newest["key_id"],
        "signature": newest["signature"],
    }


def read_head(path: Path) -> dict[str, Any]:
    """An exported head read back from a file, as a checkpoint; InputError when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {
            "size": int(data["sequence"]),
            "head": str(data["hash"]),
            "at": str(data["at"]),
            "key_id": str(data["key_id"]),
            "signature": str(data["signature"]),
        }
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(f"{path.name} is not an exported head (see `mimamori audit export-head`)") from None


def verify_head(session: Session, exported: dict[str, Any], keys: dict[str, bytes]) -> str | None:
    """None when the exported head is signed and the log still holds it; otherwise the problem."""
    problem = _signature_problem(exported, keys)
    if problem:
        return f"the exported head: {problem}"
    size, _ = audit.head(session)
    if size < exported["size"]:
        return (
            f"log truncated below the exported head of {exported['at']}: it counts {exported['size']} "
            f"records, the log has {size}"
        )
    stored = _stored(session, exported["size"])
    if stored != exported["head"]:
        return f"record {exported['size']} no longer matches the exported head of {exported['at']}"
    return None
