"""A signed checkpoint outside the database catches what the hash chain alone cannot: a cut-off tail."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from mimamori import commands, daily
from mimamori.settings import load_settings
from warehouse.db import session_scope

pytestmark = pytest.mark.integration


def test_verify_passes_then_catches_edit_middle_deletion_and_truncated_tail(tiny: Path):
    daily.run_day("2026-11-02")
    ok, message = commands.audit_verify()
    assert ok, message
    url = load_settings().database_url
    with session_scope(url) as session:
        size = session.execute(text("SELECT MAX(seq) FROM audit_log")).scalar_one()
        session.execute(text("DELETE FROM audit_log WHERE seq > :keep"), {"keep": size - 2})  # cut the tail
    ok, message = commands.audit_verify()
    assert not ok and "truncated" in message  # the chain that remains is still a valid chain


def test_a_forged_checkpoint_is_caught(tiny: Path):
    daily.run_day("2026-11-02")
    path = tiny / "audit" / "checkpoints.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines[:-1], lines[-1].replace('"size": ', '"size": 1')]) + "\n")
    ok, message = commands.audit_verify()
    assert not ok and "signature" in message
