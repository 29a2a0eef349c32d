"""A day killed with SIGKILL at any step boundary or inside a load, then run again, ends as if never killed.

A small town runs its first day; copies of that home (and of its PostgreSQL database) then run the
second day: once uninterrupted, and once per kill point in a child process that the test kills,
followed by the recovery an operator (`mimamori run --date D`) or Airflow (a task retry of the same
run) would do. Both must end with the same published list, the same rows in every warehouse table,
every signal exactly once, and an audit chain that verifies.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from mimamori import daily
from mimamori.cli import pipeline as commands
from mimamori.context import RunContext
from mimamori.daily import STEPS
from mimamori.settings import DEPLOYMENT_VARIABLES
from mimamori_demo.town.generate import generate_town
from warehouse.db import engine_for
from warehouse.load import SIGNAL_COLUMNS
from warehouse.models import AuditRecord, Delivery, FeedHealth, PipelineRun, Signal, WatchlistEntry

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("mimamori"))
CHILD = str(Path(__file__).with_name("interrupted_day.py"))
FIRST, SECOND = "2026-11-02", "2026-11-03"
# After each step returned, and inside ingest between two batches of the signal load.
KILL_POINTS = (*STEPS, "load")
# On SQLite every point with the operator's rerun and the points after writes with Airflow's retry; on
# PostgreSQL the load and the publish (the file is kept to a few minutes).
SQLITE_CASES = [
    *((point, "rerun") for point in KILL_POINTS),
    *((point, "retry") for point in ("ingest", "publish", "load")),
]
POSTGRESQL_CASES = [("load", "rerun"), ("load", "retry"), ("publish", "rerun")]
# Reads of identities: every one that happened is recorded, so a rerun adds records; all else must match.
READS = frozenset({"vault_read", "reidentify"})
# Tables compared beside their row counts: a killed run stays behind as one more pipeline run, and reads
# are checked as above.
APART = frozenset({"pipeline_runs", "audit_log"})
LEFT_BEHIND = Counter({(dt.date.fromisoformat(SECOND), "running"): 1})


@dataclass(frozen=True)
class Home:
    """A data home and, on PostgreSQL, its own warehouse database."""

    path: Path
    database: str | None
    server: str | None

    @property
    def url(self) -> str:
        """The warehouse URL this home's commands use."""
        if self.database is None or self.server is None:
            return f"sqlite:///{self.path / 'warehouse.db'}"
        return make_url(self.server).set(database=self.database).render_as_string(hide_password=False)

    @property
    def env(self) -> dict[str, str]:
        """The environment of a command run against this home (embedded defaults otherwise)."""
        env = {k: v for k, v in os.environ.items() if k not in DEPLOYMENT_VARIABLES}
        env["MIMAMORI_HOME"] = str(self.path)
        if self.database is not None:
            env["MIMAMORI_DATABASE_URL"] = self.url
        return env


class Copies:
    """Copies of a home at the end of the first day: the folder, plus a database cloned on PostgreSQL."""

    def __init__(self, root: Path, server: str | None):
        self.root, self.server = root, server
        self.databases: list[str] = []
        self.admin = create_engine(server, isolation_level="AUTOCOMMIT") if server else None

    def new(self, name: str, template: Home | None = None) -> Home:
        """An empty home, or a copy of `template`."""
        path = self.root / name
        database = None
        if self.admin is not None:
            database = f"mimamori_crash_{uuid.uuid4().hex[:10]}"
            clause = f' TEMPLATE "{template.database}"' if template is not None else ""
            with self.admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{database}"{clause}'))
            self.databases.append(database)
        if template is not None:
            shutil.copytree(template.path, path)
        return Home(path, database, self.server)

    def drop(self) -> None:
        """Drop every database made for the copies."""
        if self.admin is None:
            return
        with self.admin.connect() as connection:
            for database in self.databases:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        self.admin.dispose()


def run_day(home: Home, day: str) -> None:
    result = subprocess.run(
        [CLI, "run", "--date", day], env=home.env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]


def kill_at(home: Home, point: str) -> str:
    """Run the second day in a separate process until `point`, kill it there with SIGKILL; its run id."""
    out, err = (home.path.parent / f"{home.path.name}.{suffix}" for suffix in ("out", "err"))
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, CHILD, SECOND, point],
            env=home.env,
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=stderr,
            text=True,
        )
    deadline = time.monotonic() + 600
    try:
        while not out.read_text().startswith(f"ready {point} ") and process.poll() is None:
            assert time.monotonic() < deadline, f"the child never reached {point}"
            time.sleep(0.1)
        assert process.poll() is None, err.read_text()[-3000:]
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    return out.read_text().split()[2]


def recover(home: Home, recovery: str, killed: str, point: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the day again in this process and verify the audit log; returns the verification message.

    `rerun` is the operator's `mimamori run --date D` (a new run); `retry` is what Airflow does after a
    killed task: run that task again, and the rest, for the same run.
    """
    for name in DEPLOYMENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in ("MIMAMORI_HOME", "MIMAMORI_DATABASE_URL"):
        if name in home.env:
            monkeypatch.setenv(name, home.env[name])
    try:
        if recovery == "rerun":
            daily.run_day(RunContext.from_environment(), SECOND)
        else:
            for name in STEPS[STEPS.index("ingest" if point == "load" else point) :]:
                getattr(daily, name)(RunContext.from_environment(), killed)
            daily.close_run(RunContext.from_environment(), killed)
        ok, message = commands.audit_verify()
    finally:
        engine_for(home.url).dispose()
    assert ok, message
    return message


def state(home: Home) -> dict[str, Any]:
    """Everything a rerun must reproduce, read straight from the warehouse and the outbox."""
    engine = create_engine(home.url)
    try:
        with engine.connect() as db:
            tables = sorted(set(inspect(db).get_table_names()) - APART)
            counts = {t: db.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one() for t in tables}
            columns = [getattr(Signal, c) for c in SIGNAL_COLUMNS]
            signals = Counter(
                db.execute(
                    select(Delivery.partner_id, Delivery.delivery_id, *columns).join(
                        Delivery, Signal.delivery_pk == Delivery.id
                    )
                ).tuples()
            )
            deliveries = sorted(
                db.execute(
                    select(
                        Delivery.partner_id,
                        Delivery.delivery_id,
                        Delivery.status,
                        Delivery.reason,
                        Delivery.rows_loaded,
                    )
                ).tuples()
            )
            feeds = sorted(
                db.execute(select(FeedHealth.partner_id, FeedHealth.day, FeedHealth.status)).tuples()
            )
            entry = WatchlistEntry
            published = entry.published_at.is_not(None)
            entries = sorted(db.execute(select(entry.entry_id, entry.tier, entry.score, published)).tuples())
            audit = list(db.execute(select(AuditRecord.action, AuditRecord.subject)).tuples())
            runs = Counter(db.execute(select(PipelineRun.run_date, PipelineRun.status)).tuples())
    finally:
        engine.dispose()
    outbox = home.path / "outbox" / SECOND
    return {
        "counts": counts,
        "signals": signals,
        "deliveries": deliveries,
        "feeds": feeds,
        "entries": entries,
        "changes": Counter(a for a in audit if a[0] not in READS),
        "reads": Counter(a for a in audit if a[0] in READS),
        "runs": runs,
        "outbox": {p.name: p.read_bytes() for p in sorted(outbox.iterdir())} if outbox.exists() else {},
    }


@pytest.fixture(scope="module")
def copies(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Copies]:
    """Where the homes of one engine go; their databases are dropped afterwards."""
    server = request.getfixturevalue("pg_admin_url") if request.param == "postgresql" else None
    made = Copies(tmp_path_factory.mktemp(f"crash-{request.param}"), server)
    yield made
    made.drop()


@pytest.fixture(scope="module")
def first_day(copies: Copies) -> Home:
    """A small town after its first day ran."""
    home = copies.new("first")
    generate_town(home.path, residents=120, days=2, seed=3, truth_path=copies.root / "truth.json")
    run_day(home, FIRST)
    return home


@pytest.fixture(scope="module")
def uninterrupted(copies: Copies, first_day: Home) -> dict[str, Any]:
    """The second day run once, start to finish."""
    home = copies.new("uninterrupted", first_day)
    run_day(home, SECOND)
    found = state(home)
    assert found["entries"] and found["outbox"] and sum(found["signals"].values()) > 100
    return found


@pytest.mark.parametrize("copies", ["sqlite"], indirect=True, scope="module")
@pytest.mark.parametrize(("point", "recovery"), SQLITE_CASES)
def test_a_killed_day_on_sqlite_run_again_ends_as_if_never_killed(
    copies: Copies,
    first_day: Home,
    uninterrupted: dict[str, Any],
    point: str,
    recovery: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ends_as_if_never_killed(copies, first_day, uninterrupted, point, recovery, monkeypatch)


@pytest.mark.parametrize("copies", ["postgresql"], indirect=True, scope="module")
@pytest.mark.parametrize(("point", "recovery"), POSTGRESQL_CASES)
def test_a_killed_day_on_postgresql_run_again_ends_as_if_never_killed(
    copies: Copies,
    first_day: Home,
    uninterrupted: dict[str, Any],
    point: str,
    recovery: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ends_as_if_never_killed(copies, first_day, uninterrupted, point, recovery, monkeypatch)


def ends_as_if_never_killed(
    copies: Copies,
    first_day: Home,
    expected: dict[str, Any],
    point: str,
    recovery: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Kill the second day at `point`, recover, and compare with the uninterrupted second day."""
    home = copies.new(f"{point}-{recovery}", first_day)
    killed = kill_at(home, point)
    verified = recover(home, recovery, killed, point, monkeypatch)
    found = state(home)

    assert found["outbox"] == expected["outbox"]
    assert found["entries"] == expected["entries"]
    assert found["counts"] == expected["counts"]
    assert found["signals"] == expected["signals"]
    assert found["deliveries"] == expected["deliveries"]
    assert found["feeds"] == expected["feeds"]
    assert found["changes"] == expected["changes"]
    assert set(found["reads"]) == set(expected["reads"]) and found["reads"] >= expected["reads"]
    leftover = LEFT_BEHIND if recovery == "rerun" else Counter()
    assert found["runs"] == expected["runs"] + leftover
    assert "audit log intact" in verified
