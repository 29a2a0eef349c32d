"""The real Airflow DAG runs green via dag.test() on a small town and produces the day's lists."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from identity.register import newest_extract, read_extract

pytestmark = pytest.mark.integration
CLI = str(Path(sys.executable).with_name("mimamori"))


@pytest.fixture(scope="module")
def dag_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("dag") / "home"
    env = {**os.environ, "MIMAMORI_HOME": str(home)}
    for name in ("MIMAMORI_DATABASE_URL", "MIMAMORI_ENV", "MIMAMORI_PSEUDONYM_KEYS", "MIMAMORI_VAULT_KEYS"):
        env.pop(name, None)
    result = subprocess.run(
        [CLI, "demo", "--residents", "300", "--days", "3", "--seed", "5", "--through-airflow"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return home


def test_every_day_ran_through_the_dag(dag_home: Path):
    with sqlite3.connect(dag_home / "warehouse.db") as db:
        runs = db.execute(
            "SELECT run_date, status, dag_run_id, summary FROM pipeline_runs ORDER BY run_date"
        ).fetchall()
    assert [r[0] for r in runs] == ["2026-11-02", "2026-11-03", "2026-11-04"]
    assert all(
        status == "success" and dag_run and dag_run.startswith("manual__") for _, status, dag_run, _ in runs
    )
    for *_, summary in runs:
        steps = json.loads(summary)
        assert steps["ingest"]["deliveries"]["loaded"] >= 5
        assert steps["ingest"]["rows_loaded"] > 0
        assert set(steps["build"]["tiers"]) == {"urgent", "high", "watch"}


def test_the_dag_published_every_district(dag_home: Path):
    districts = {p.stem for p in (dag_home / "outbox" / "2026-11-04").glob("*.json")}
    assert districts == {"D01", "D02", "D03", "D04"}


def test_airflow_metadata_records_successful_task_instances(dag_home: Path):
    with sqlite3.connect(dag_home / "airflow" / "airflow.db") as db:
        states = db.execute(
            "SELECT task_id, state FROM task_instance WHERE dag_id='mimamori_daily'"
        ).fetchall()
        xcoms = db.execute("SELECT value FROM xcom WHERE dag_id='mimamori_daily'").fetchall()
    assert len(states) == 3 * 7 and {s for _, s in states} == {"success"}
    assert len(xcoms) >= 3 * 6
    register = read_extract(newest_extract(dag_home / "register", dt.date(2026, 11, 4)))
    needles = (
        {r.resident_id for r in register.itertuples()}
        | {r.name_kana.replace("\u3000", "") for r in register.itertuples()}
        | {re.sub(r"\D", "", r.phone) for r in register.itertuples() if len(re.sub(r"\D", "", r.phone)) >= 10}
    )
    text = "\n".join(str(v) for (v,) in xcoms) + (dag_home / "airflow" / "dag-test.log").read_text()
    assert [n for n in needles if n and n in text.replace("\u3000", "")] == []
