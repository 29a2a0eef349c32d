"""The daily DAG under a real scheduler with the CeleryExecutor: the path a hub takes when one machine is
not enough.

The api-server, scheduler, dag-processor and a Celery worker run as separate processes on loopback, with
Redis as the broker and PostgreSQL for Airflow's metadata, the Celery results and the warehouse; the worker
runs each task through the API server's Task Execution API. Every process is stopped by its process group.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from identity.register import newest_extract, read_extract
from mimamori.settings import DEPLOYMENT_VARIABLES
from mimamori_demo.evaluation import listed
from mimamori_demo.town.generate import generate_town

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent
DAGS = Path(__file__).resolve().parents[2] / "dags"
REDIS_DB = 11  # a database of its own on the shared Redis; each run also has its own queue
DAY = "2026-11-04"
DAG_ID = "mimamori_daily"
RUN_ID = "celery_test"
PARSED = f"SELECT 1 FROM serialized_dag WHERE dag_id = '{DAG_ID}'"
START_TIMEOUT = 240
RUN_TIMEOUT = 900


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Stack:
    """Airflow processes started in their own process groups, with their output in log files."""

    env: dict[str, str]
    logs: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def airflow(self, *args: str, timeout: int = 300) -> str:
        """Run one Airflow command to completion; its output, or a failure with the output's tail."""
        done = subprocess.run(
            [str(BIN / "airflow"), *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        assert done.returncode == 0, f"airflow {' '.join(args)}:\n{(done.stdout + done.stderr)[-3000:]}"
        return done.stdout

    def start(self, name: str, *args: str) -> None:
        """Start a long-running Airflow component as the leader of a new process group."""
        with (self.logs / f"{name}.log").open("wb") as log:
            self.processes[name] = subprocess.Popen(
                [str(BIN / "airflow"), *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def check_alive(self) -> None:
        """Fail with the component's log if one of the processes has exited."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                pytest.fail(f"airflow {name} exited with {process.returncode}:\n{self.tail(name)}")

    def tail(self, name: str) -> str:
        """The end of one component's log."""
        return (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        """SIGTERM every process group, SIGKILL any group still there after a grace period, reap leaders."""
        for process in self.processes.values():
            signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes.values():
            while group_alive(process.pid) and time.monotonic() < deadline:
                process.poll()
                time.sleep(0.2)
            signal_group(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while any(group_alive(p.pid) for p in self.processes.values()) and time.monotonic() < deadline:
            time.sleep(0.2)


def signal_group(pgid: int, signum: int) -> None:
    """Send a signal to a whole process group, if any member is left."""
    with suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def group_alive(pgid: int) -> bool:
    """Whether any process of the group is still there (an unreaped leader counts until it is waited for)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_for(what: str, ready: Callable[[], object], stack: Stack, timeout: float) -> None:
    """Poll `ready()` until it is true, failing early if a component died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.check_alive()
        try:
            if ready():
                return
        except Exception:  # not up yet: connection refused, table not created, ...
            pass
        time.sleep(1)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


@pytest.fixture
def run_name() -> str:
    """A name for this run's database and queue: runs on a shared machine never meet."""
    return f"mimamori_airflow_celery_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def airflow_db(pg_admin_url: str, run_name: str) -> Iterator[str]:
    """Airflow's metadata database (also the Celery result backend), created for the run, dropped after."""
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{run_name}"'))
    try:
        yield make_url(pg_admin_url).set(database=run_name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{run_name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def broker_url(redis_url: str, run_name: str) -> Iterator[str]:
    """The Celery broker on Redis; the run's queue and its bindings are removed afterwards."""
    import redis

    url = f"{redis_url}/{REDIS_DB}"
    yield url
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(f"*{run_name}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def town(tmp_path: Path) -> Path:
    """A small synthetic town whose last day lists a few residents."""
    home = tmp_path / "home"
    generate_town(home, residents=80, days=3, seed=5, truth_path=tmp_path / "truth.json")
    return home


def reference_list(town: Path, tmp_path: Path) -> set[str]:
    """The day's list from the in-process run (`mimamori run`, embedded SQLite) on a copy of the town."""
    copy = tmp_path / "reference"
    shutil.copytree(town, copy)
    env = {k: v for k, v in os.environ.items() if k not in DEPLOYMENT_VARIABLES} | {
        "MIMAMORI_HOME": str(copy)
    }
    done = subprocess.run(
        [str(BIN / "mimamori"), "run", "--date", DAY], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return set(listed(copy, DAY))


def stack_env(
    home: Path,
    airflow_home: Path,
    metadata_url: str,
    warehouse_url: str,
    broker_url: str,
    queue: str,
    port: int,
) -> dict[str, str]:
    """One environment for every component: CeleryExecutor, Redis broker, PostgreSQL, loopback API."""
    base = {
        k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW") and k not in DEPLOYMENT_VARIABLES
    }
    api = f"http://127.0.0.1:{port}"
    return base | {
        "MIMAMORI_HOME": str(home),
        "MIMAMORI_DATABASE_URL": warehouse_url,
        "MIMAMORI_ACTOR": "celery-test",
        "GX_ANALYTICS_ENABLED": "False",
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": metadata_url,  # psycopg 3 is async too (no asyncpg)
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata_url,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,  # where tasks go and the worker listens
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": api,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        # Only the run the test triggers: every DAG starts paused but the daily one, and no cron schedules.
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
    }


def named_residents(home: Path, day: str) -> set[str]:
    """Residents of the register whose id, or kanji name and address together, appear in the day's outbox."""
    extract = newest_extract(home / "register", dt.date.fromisoformat(day))
    assert extract is not None
    register = read_extract(extract)
    published = "\n".join(
        p.read_text(encoding="utf-8-sig") for p in (home / "outbox" / day).iterdir()
    ).replace("\u3000", "")
    return {
        r.resident_id
        for r in register.itertuples()
        if r.resident_id in published
        or (r.name_kanji.replace("\u3000", "") in published and r.address.replace("\u3000", "") in published)
    }


def test_the_daily_dag_runs_on_celery_workers_and_publishes_the_same_list(
    town: Path, tmp_path: Path, airflow_db: str, postgres_url: str, broker_url: str, run_name: str
) -> None:
    expected = reference_list(town, tmp_path)
    assert expected, "the town's day must list someone, or the comparison proves nothing"

    (tmp_path / "logs").mkdir()
    port = free_port()
    stack = Stack(
        stack_env(town, tmp_path / "airflow", airflow_db, postgres_url, broker_url, run_name, port),
        tmp_path / "logs",
    )
    metadata = create_engine(airflow_db)

    def health() -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=5) as reply:
            return bool(reply.status == 200)

    def query(sql: str) -> list[Any]:
        with metadata.connect() as db:
            return list(db.execute(text(sql)).all())

    def run_state() -> str:
        return str(query(f"SELECT state FROM dag_run WHERE run_id = '{RUN_ID}'")[0][0])

    try:
        stack.airflow("db", "migrate")
        # as the deploy step does (deploy/airflow-init.sh): every writer of the warehouse waits for this pool
        stack.airflow("pools", "set", "mimamori_warehouse", "1", "one writer of the warehouse")
        stack.start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1")
        stack.start("scheduler", "scheduler")
        stack.start("dag-processor", "dag-processor")
        stack.start("worker", "celery", "worker", "--concurrency", "1", "--skip-serve-logs")
        wait_for("the API server", health, stack, START_TIMEOUT)
        wait_for("the DAG to be parsed", lambda: query(PARSED), stack, START_TIMEOUT)
        stack.airflow("dags", "unpause", DAG_ID)
        stack.airflow(
            "dags", "trigger", DAG_ID, "--run-id", RUN_ID, "--logical-date", f"{DAY}T06:30:00+09:00"
        )
        wait_for("the DAG run to finish", lambda: run_state() in ("success", "failed"), stack, RUN_TIMEOUT)
        rows = query(f"SELECT task_id, state, try_number FROM task_instance WHERE run_id = '{RUN_ID}'")
        tasks, tries = {t: state for t, state, _ in rows}, {t: n for t, _, n in rows}
        assert run_state() == "success", f"{tasks}\n{stack.tail('worker')}\n{stack.tail('scheduler')}"

        def results() -> dict[str, int]:
            return dict(query("SELECT status, count(*) FROM celery_taskmeta GROUP BY status"))

        # A task's state reaches Airflow through the API server before its Celery task records the result.
        wait_for("the last Celery result", lambda: set(results()) <= {"SUCCESS", "FAILURE"}, stack, 120)
        reported = results()
    finally:
        metadata.dispose()
        stack.stop()
    assert not [name for name, p in stack.processes.items() if group_alive(p.pid)], "processes left behind"

    assert {"open_run", "publish"} <= set(tasks) and set(tasks.values()) == {"success"}
    # Every try of every task (a retry is a try too) went through a Celery worker and reported back.
    assert reported == {"SUCCESS": sum(tries.values())}, tries
    warehouse = create_engine(postgres_url)
    with warehouse.connect() as db:
        runs = db.execute(text("SELECT run_date, status, dag_run_id FROM pipeline_runs")).all()
    warehouse.dispose()
    assert [(str(d), s, r) for d, s, r in runs] == [(DAY, "success", RUN_ID)]
    assert set(listed(town, DAY)) == expected
    assert named_residents(town, DAY) == expected
