"""A whole warehouse to one file and back: SQLite's online backup API, or pg_dump and pg_restore."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from warehouse.errors import ConfigurationError, InputError

SQLITE, POSTGRESQL = "sqlite", "postgresql"
MEMBER = {SQLITE: "warehouse.sqlite", POSTGRESQL: "warehouse.pgdump"}


def kind(url: str) -> str:
    """`sqlite` or `postgresql`: the warehouses a dump can be made of."""
    backend = make_url(url).get_backend_name()
    if backend not in MEMBER:
        raise ConfigurationError(f"no backup for a {backend} warehouse")
    return backend


def _sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "")


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password, and the tool's whole environment carrying it (never on a command
    line); anything else libpq needs (sslmode, ...) travels in the URI's query."""
    parsed: URL = make_url(url)
    env: dict[str, str] = {}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    uri = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _tool(name: str, *args: str, env: dict[str, str]) -> None:
    program = shutil.which(name)
    if program is None:
        raise ConfigurationError(f"{name} が見つかりません / {name} not found (PostgreSQL client tools)")
    done = subprocess.run([program, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise InputError(f"{name}: {reason}")


def dump(url: str, target: Path) -> str:
    """Write a consistent copy of the warehouse to `target` while it stays in use; returns the kind."""
    found = kind(url)
    if found == SQLITE:
        source = sqlite3.connect(f"file:{_sqlite_path(url)}?mode=ro", uri=True)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
    else:
        uri, env = _libpq(url)
        _tool("pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}", uri, env=env)
    return found


def is_empty(url: str) -> bool:
    """True when the warehouse does not exist yet or holds no table."""
    if kind(url) == SQLITE:
        path = _sqlite_path(url)
        return not path.exists() or path.stat().st_size == 0
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = connection.execute(
                text("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'")
            ).scalar_one()
    finally:
        engine.dispose()
    return int(tables) == 0


def load(url: str, source: Path, dumped: str) -> None:
    """Restore a dump of the same kind into an empty warehouse."""
    if kind(url) != dumped:
        raise InputError(f"the backup holds a {dumped} warehouse; MIMAMORI_DATABASE_URL is {kind(url)}")
    if dumped == SQLITE:
        path = _sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        copy = sqlite3.connect(source)
        target = sqlite3.connect(path)
        try:
            copy.backup(target)
            checked = target.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            target.close()
            copy.close()
        os.chmod(path, 0o600)
        if checked != "ok":
            raise InputError(f"the restored warehouse fails its integrity check: {checked}")
        return
    uri, env = _libpq(url)
    _tool(
        "pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
        f"--dbname={uri}", str(source), env=env,
    )  # fmt: skip
