"""The real Airflow DAG runs green via dag.test() on a small town and produces the day's lists."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from openlineage_schema import needs_spec, problems
from privacy_scan import identifiers, leaked

from identity.register import newest_extract, read_extract
from lineage.events import dag_run_uuid, read_events
from mimamori.settings import DEPLOYMENT_VARIABLES

pytestmark = pytest.mark.integration
CLI = str(Path(sys.executable).with_name("mimamori"))


@pytest.fixture(scope="module")
def dag_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("dag") / "home"
    env = {**os.environ, "MIMAMORI_HOME": str(home)}
    for name in DEPLOYMENT_VARIABLES:
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


def test_no_identifier_in_the_warehouse_airflow_metadata_logs_or_validation_results(dag_home: Path):
    people = identifiers(dag_home)
    assert sum(len(v) for v in people.values()) > 1000
    with sqlite3.connect(dag_home / "warehouse.db") as db:
        warehouse = "\n".join(line for line in db.iterdump() if "identity_vault" not in line)
    with sqlite3.connect(dag_home / "airflow" / "airflow.db") as db:
        metadata = "\n".join(db.iterdump())
    logs = "\n".join(p.read_text(errors="replace") for p in (dag_home / "airflow").rglob("*.log"))
    gx_files = [
        p for p in (dag_home / "gx").rglob("*") if p.is_file() and p.suffix in (".json", ".html", ".yml")
    ]
    validation = "\n".join(p.read_text(errors="replace") for p in gx_files)
    assert (
        any("validations" in str(p) for p in gx_files)
        and (dag_home / "gx" / "uncommitted" / "data_docs").is_dir()
    )
    assert leaked(validation, people) == []
    assert leaked(warehouse, people) == []
    assert leaked(metadata, people) == []
    assert leaked(logs, people) == []


def test_the_outbox_names_only_the_people_on_that_days_list(dag_home: Path):
    # Family members share an address and phone, namesakes a name: a person is their id, or name and address.
    register = read_extract(newest_extract(dag_home / "register", dt.date(2026, 11, 4)))
    everyone = {r.resident_id: (r.name_kanji, r.address) for r in register.itertuples()}
    for day_folder in sorted((dag_home / "outbox").iterdir()):
        entries = [
            e for p in day_folder.glob("*.json") for e in json.loads(p.read_text(encoding="utf-8"))["entries"]
        ]
        listed = {e["resident_id"] for e in entries}
        text = "\n".join(p.read_text(encoding="utf-8-sig") for p in day_folder.iterdir())
        named = {rid for rid in everyone if rid in text}
        named |= {
            rid for rid, who in everyone.items() for e in entries if (e["name_kanji"], e["address"]) == who
        }
        assert named == listed, day_folder.name


@needs_spec
def test_dag_runs_emit_valid_lineage_events_naming_the_dag_run(dag_home: Path):
    events = read_events(dag_home / "lineage" / "events.jsonl")
    with sqlite3.connect(dag_home / "warehouse.db") as db:
        runs = dict(db.execute("SELECT run_id, dag_run_id FROM pipeline_runs WHERE dag_run_id IS NOT NULL"))
    assert len(runs) >= 3 and events
    assert [p for e in events for p in problems(e)] == []
    for run_id, dag_run in runs.items():
        mine = [e for e in events if e["job"]["name"] == "daily_run" and e["run"]["runId"] == run_id]
        assert [e["eventType"] for e in mine] == ["START", "COMPLETE"]
        assert mine[0]["run"]["facets"]["parent"]["run"]["runId"] == dag_run_uuid(dag_run, "mimamori_daily")
        tags = {t["key"]: t["value"] for t in mine[0]["run"]["facets"]["tags"]["tags"]}
        assert tags["airflow.dag_id"] == "mimamori_daily" and tags["airflow.dag_run_id"] == dag_run
    steps = [e for e in events if e["job"]["name"].startswith("daily_run.")]
    roots = {e["run"]["facets"]["parent"]["root"]["run"]["runId"] for e in steps}
    assert roots == {dag_run_uuid(dag_run) for dag_run in runs.values()}
    assert leaked(json.dumps(events, ensure_ascii=False), identifiers(dag_home)) == []
