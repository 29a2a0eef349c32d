"""Backups as an operator makes and restores them with the installed command, on SQLite or PostgreSQL.

With MIMAMORI_TEST_DATABASE=postgresql (`make test-postgres`) the warehouse is PostgreSQL, dumped with
pg_dump and restored with pg_restore into a second new database.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import POSTGRES_WAREHOUSE
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from identity.keys import parse_keyring
from mimamori import daily
from mimamori.backup import open_backup
from mimamori.context import RunContext
from mimamori.settings import DEPLOYMENT_VARIABLES, READER_VARIABLES

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("mimamori"))
LAST = "2026-11-03"  # the second day of a two-day demo town, whose list has entries


def mimamori(home: Path, *args: str, database: str = "", **extra: str) -> subprocess.CompletedProcess[str]:
    """The installed command on a data home (and its own warehouse), with only the keys given in `extra`."""
    env = {**os.environ, "MIMAMORI_HOME": str(home), **extra}
    for name in (*DEPLOYMENT_VARIABLES, *READER_VARIABLES):
        if name not in extra:
            env.pop(name, None)
    if database:
        env["MIMAMORI_DATABASE_URL"] = database
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture
def databases(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """Warehouse URLs for the homes a test restores into: new PostgreSQL databases, or '' (SQLite)."""
    made: list[str] = []
    if not POSTGRES_WAREHOUSE:
        yield ["", "", "", ""]
        return
    admin_url = request.getfixturevalue("pg_admin_url")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    for _ in range(4):
        name = f"mimamori_restore_{uuid.uuid4().hex[:10]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(make_url(admin_url).set(database=name).render_as_string(hide_password=False))
    yield made
    from warehouse.db import engine_for

    for url in made:
        engine_for(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    engine_for.cache_clear()
    admin.dispose()


def _entries(result: subprocess.CompletedProcess[str]) -> list[dict]:
    assert result.returncode == 0, result.stderr
    return sorted(json.loads(result.stdout)["entries"], key=lambda e: e["entry_id"])


def test_a_backup_restores_into_a_fresh_home_with_its_audit_log_and_last_list(
    home: Path, tmp_path: Path, databases: list[str]
):
    tiny = home  # a small demo town, so the last list has entries to compare
    database = os.environ.get("MIMAMORI_DATABASE_URL", "")
    built = mimamori(tiny, "demo", "--residents", "200", "--days", "2", "--seed", "3", database=database)
    assert built.returncode == 0, built.stderr
    for day in ("2026-11-02", LAST):
        daily.run_day(RunContext.from_environment(), day)
    listed = _entries(mimamori(tiny, "watchlist", "--date", LAST, "--all-districts", database=database))
    assert listed
    key_file = tiny / "keys" / "vault.key"
    vault = parse_keyring(key_file.read_text().strip(), "vault")
    plain, sealed = tmp_path / "plain.backup", tmp_path / "with-keys.backup"
    made = mimamori(tiny, "backup", str(plain), database=database)
    assert made.returncode == 0, made.stderr
    assert mimamori(tiny, "backup", str(sealed), "--with-secret-keys", database=database).returncode == 0
    assert mimamori(tiny, "backup", str(plain), database=database).returncode == 1  # never overwritten

    manifest, members = open_backup(plain, vault)
    assert not [name for name in members if name.startswith("keys/")] and not manifest["secret_keys"]
    assert {"audit/checkpoints.jsonl", "audit/public.keys", "keys.json", "municipality.yaml"} <= set(members)
    references = json.loads(members["keys.json"])
    assert references["vault"]["ids"] == ["v1"] and references["pseudonym"]["ids"] == ["k1"]
    for secret in (tiny / "keys").glob("*.key"):
        encoded = secret.read_text().strip().split(":", 1)[1].encode()
        assert all(encoded not in body for body in members.values())

    fresh = tmp_path / "fresh"
    restored = mimamori(fresh, "restore", str(sealed), "--key-file", str(key_file), database=databases[0])
    assert restored.returncode == 0, restored.stderr
    assert "intact" in restored.stdout
    verified = mimamori(fresh, "audit", "verify", database=databases[0])
    assert verified.returncode == 0 and "intact" in verified.stdout, verified.stdout + verified.stderr
    again = _entries(mimamori(fresh, "watchlist", "--date", LAST, "--all-districts", database=databases[0]))
    assert again == listed

    twice = mimamori(fresh, "restore", str(sealed), "--key-file", str(key_file), database=databases[0])
    assert twice.returncode == 1 and "not empty" in twice.stderr

    # Key ids only: the operator brings the pseudonym and audit keys from where production keeps them.
    bare = tmp_path / "bare"
    refused = mimamori(bare, "restore", str(plain), "--key-file", str(key_file), database=databases[1])
    assert refused.returncode == 1 and "MIMAMORI_PSEUDONYM_KEYS" in refused.stderr, refused.stderr
    assert not bare.exists()
    keys = {
        f"MIMAMORI_{name.upper()}_KEYS": (tiny / "keys" / f"{name}.key").read_text().strip()
        for name in ("pseudonym", "audit")
    }
    brought = mimamori(
        bare, "restore", str(plain), "--key-file", str(key_file), database=databases[1], **keys
    )
    assert brought.returncode == 0, brought.stderr
    assert not (bare / "keys" / "pseudonym.key").exists() and (bare / "keys" / "vault.key").exists()
    view = mimamori(bare, "watchlist", "--date", LAST, "--all-districts", database=databases[1], **keys)
    assert _entries(view) == listed


def test_restore_refuses_an_altered_archive_and_writes_nothing(
    tiny: Path, tmp_path: Path, databases: list[str]
):
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    database = os.environ.get("MIMAMORI_DATABASE_URL", "")
    archive = tmp_path / "home.backup"
    assert mimamori(tiny, "backup", str(archive), "--with-secret-keys", database=database).returncode == 0
    body = bytearray(archive.read_bytes())
    body[len(body) // 2] ^= 0x01
    archive.write_bytes(bytes(body))
    fresh = tmp_path / "fresh"
    key_file = str(tiny / "keys" / "vault.key")
    done = mimamori(fresh, "restore", str(archive), "--key-file", key_file, database=databases[2])
    assert done.returncode == 3 and "改ざん" in done.stderr, done.stderr
    assert not fresh.exists()
    other = tmp_path / "other.key"
    other.write_text("v9:" + base64.b64encode(b"A" * 32).decode() + "\n")
    wrong = mimamori(fresh, "restore", str(archive), "--key-file", str(other), database=databases[3])
    assert wrong.returncode == 1 and "'v1'" in wrong.stderr, wrong.stderr
