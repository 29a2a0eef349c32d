"""A signed checkpoint outside the database catches what the hash chain alone cannot: a cut-off tail."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text

from mimamori import daily
from mimamori.cli import pipeline as commands
from mimamori.context import RunContext
from mimamori.settings import load_settings
from warehouse import audit
from warehouse.db import session_scope
from warehouse.errors import AuditLogError
from warehouse.models import AuditRecord

pytestmark = pytest.mark.integration


def test_verify_passes_then_catches_edit_middle_deletion_and_truncated_tail(tiny: Path):
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    ok, message = commands.audit_verify()
    assert ok, message
    url = load_settings().database_url
    with session_scope(url) as session:
        size = session.execute(text("SELECT MAX(seq) FROM audit_log")).scalar_one()
        session.execute(text("DELETE FROM audit_log WHERE seq > :keep"), {"keep": size - 2})  # cut the tail
    ok, message = commands.audit_verify()
    assert not ok and "truncated" in message  # the chain that remains is still a valid chain


def test_a_forged_checkpoint_is_caught(tiny: Path):
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    path = tiny / "audit" / "checkpoints.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines[:-1], lines[-1].replace('"size": ', '"size": 1')]) + "\n")
    ok, message = commands.audit_verify()
    assert not ok and "signature" in message


CLI = str(Path(sys.executable).with_name("mimamori"))


def mimamori(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed command, in this test's data home and warehouse (the environment is inherited)."""
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=300, env=dict(os.environ))


def size_of(url: str) -> int:
    with session_scope(url) as session:
        return int(session.execute(text("SELECT MAX(seq) FROM audit_log")).scalar_one())


def rehash_from(url: str, seq: int) -> None:
    """Forge the chain: change record `seq` and recompute every later hash (the chain alone still holds)."""
    with session_scope(url) as session:
        records = session.execute(select(AuditRecord).order_by(AuditRecord.seq)).scalars().all()
        prev = records[seq - 2].hash if seq > 1 else audit.GENESIS
        for record in records[seq - 1 :]:
            if record.seq == seq:
                record.subject = "forged"
            record.prev_hash = prev
            record.hash = audit._digest(
                record.seq, record.at, record.actor, record.action, record.subject, record.detail, prev
            )
            prev = record.hash
    with session_scope(url) as session:
        assert audit.verify(session).ok


def sign_now(home: Path) -> None:
    """Append a checkpoint for whatever the log holds now, as someone holding the signing key could."""
    settings = load_settings()
    assert settings.audit_keys is not None
    with session_scope(settings.database_url) as session:
        size, head = audit.head(session)
    body = {
        "size": size,
        "head": head,
        "at": "2099-01-01T00:00:00Z",
        "key_id": settings.audit_keys.current_id,
    }
    message = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    body["signature"] = Ed25519PrivateKey.from_private_bytes(settings.audit_keys.current).sign(message).hex()
    with (home / "audit" / "checkpoints.jsonl").open("a") as handle:
        handle.write(json.dumps(body) + "\n")


def test_tamper_then_another_command_then_verify_exits_non_zero(tiny: Path):
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    url = load_settings().database_url
    with session_scope(url) as session:
        session.execute(text("DELETE FROM audit_log WHERE seq = :last"), {"last": size_of(url)})
    path = tiny / "audit" / "checkpoints.jsonl"
    before = path.read_text()
    other = mimamori("quarantine", "list")
    assert other.returncode == 3 and "Traceback" not in other.stderr and "改ざん" in other.stderr
    assert path.read_text() == before  # nothing was signed over the cut tail
    verified = mimamori("audit", "verify")
    assert verified.returncode == 3 and "truncated" in verified.stdout, verified.stdout + verified.stderr


def test_a_rewritten_chain_is_never_signed_by_the_next_command(tiny: Path):
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    url = load_settings().database_url
    rehash_from(url, size_of(url) // 2)
    with pytest.raises(AuditLogError, match="no longer matches"):
        daily.checkpoint(load_settings())
    ok, message = commands.audit_verify()
    assert not ok and "no longer matches" in message


def test_every_checkpoint_is_checked_not_only_the_newest(tiny: Path):
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    daily.run_day(RunContext.from_environment(), "2026-11-03")
    url = load_settings().database_url
    lines = (tiny / "audit" / "checkpoints.jsonl").read_text().splitlines()
    assert len(lines) >= 2 and json.loads(lines[-2])["size"] > 0
    rehash_from(url, json.loads(lines[-2])["size"])  # under the newest checkpoint but one
    sign_now(tiny)  # a newest checkpoint that matches the forged chain
    ok, message = commands.audit_verify()
    assert not ok and "no longer matches the signed checkpoint" in message, message


def test_a_checkpoint_that_goes_back_is_caught(tiny: Path):
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    daily.run_day(RunContext.from_environment(), "2026-11-03")
    path = tiny / "audit" / "checkpoints.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, lines[1]]) + "\n")  # a valid but older checkpoint appended again
    ok, message = commands.audit_verify()
    assert not ok and "fewer records" in message


def test_a_log_without_checkpoints_fails_and_is_not_signed_again(tiny: Path):
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    (tiny / "audit" / "checkpoints.jsonl").unlink()
    ok, message = commands.audit_verify()
    assert not ok and "no signed checkpoint" in message
    with pytest.raises(AuditLogError, match="no signed checkpoint"):
        daily.checkpoint(load_settings())
    assert not (tiny / "audit" / "checkpoints.jsonl").exists()


def test_verifying_needs_only_the_public_key(tiny: Path, monkeypatch: pytest.MonkeyPatch):
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    public = (tiny / "audit" / "public.keys").read_text().strip()
    (tiny / "keys" / "audit.key").rename(tiny / "audit.key.elsewhere")
    monkeypatch.setenv("MIMAMORI_AUDIT_PUBLIC_KEYS", public)
    ok, message = commands.audit_verify()
    assert ok, message
    assert not (tiny / "keys" / "audit.key").exists()  # no signing key was made for a reader
    other = base64.b64encode(Ed25519PrivateKey.generate().public_key().public_bytes_raw()).decode()
    monkeypatch.setenv("MIMAMORI_AUDIT_PUBLIC_KEYS", f"{public.split(':')[0]}:{other}")
    ok, message = commands.audit_verify()
    assert not ok and "signature" in message


def test_an_exported_head_catches_log_and_checkpoints_cut_back_together(tiny: Path):
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    path = tiny / "audit" / "checkpoints.jsonl"
    older = path.read_text()
    daily.run_day(RunContext.from_environment(), "2026-11-03")
    exported = mimamori("audit", "export-head")
    assert exported.returncode == 0, exported.stderr
    head = json.loads(exported.stdout)
    assert {"sequence", "hash", "at", "key_id", "signature"} <= set(head)
    saved = tiny.parent / "head.json"  # kept outside the data home
    saved.write_text(exported.stdout)
    assert mimamori("audit", "verify", "--head", str(saved)).returncode == 0
    # cut the log and the checkpoint file back to the older checkpoint: consistent with each other
    url = load_settings().database_url
    with session_scope(url) as session:
        session.execute(
            text("DELETE FROM audit_log WHERE seq > :keep"),
            {"keep": json.loads(older.splitlines()[-1])["size"]},
        )
    path.write_text(older)
    assert mimamori("audit", "verify").returncode == 0  # nothing inside the system can tell
    against = mimamori("audit", "verify", "--head", str(saved))
    assert against.returncode == 3 and "below the exported head" in against.stdout, against.stdout
    forged = {**head, "sequence": 1}
    saved.write_text(json.dumps(forged))
    assert "signature" in mimamori("audit", "verify", "--head", str(saved)).stdout


WRITER = """
from sqlalchemy.exc import IntegrityError, OperationalError

from mimamori import daily
from mimamori.settings import load_settings
from warehouse import audit
from warehouse.db import session_scope

settings = load_settings()
for step in range(6):
    for attempt in range(50):  # the chain has one writer at a time: a concurrent append is refused, retried
        try:
            with session_scope(settings.database_url) as session:
                audit.append(session, settings.actor, "test_write", f"w{step}")
            break
        except (IntegrityError, OperationalError):
            continue
    daily.checkpoint(settings)
"""


def test_workers_signing_at_once_keep_checkpoints_in_order(tiny: Path):
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER], env=dict(os.environ), stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    for worker in workers:
        _, errors = worker.communicate(timeout=300)
        assert worker.returncode == 0, errors[-1500:]
    ok, message = commands.audit_verify()
    assert ok, message
    sizes = [
        json.loads(line)["size"] for line in (tiny / "audit" / "checkpoints.jsonl").read_text().splitlines()
    ]
    assert sizes == sorted(sizes) and sizes[-1] == size_of(load_settings().database_url)
