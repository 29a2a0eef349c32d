"""DAG files only wire tasks: they parse fast, touch nothing, import only airflow.sdk, and set retries."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.dags
ROOT = Path(__file__).resolve().parents[2]
DAGS = sorted((ROOT / "dags").glob("*.py"))
DAG_IDS = {
    "mimamori_daily",
    "mimamori_ingest",
    "mimamori_consents",
    "mimamori_purge",
    "mimamori_retention",
    "mimamori_key_rotation",
    "mimamori_hub",
    "mimamori_steward_jobs",
}
# Modules a DAG file must not import at parse time (ours are heavy or open databases and keys).
FORBIDDEN = (
    "pandas",
    "great_expectations",
    "cryptography",
    "sqlalchemy",
    "connectors",
    "identity",
    "consent",
    "expectations",
    "warehouse",
    "watchlist",
    "mimamori",
)

# Parses one DAG file in a fresh interpreter, recording database, socket, variable and connection access.
PROBE = r"""
import importlib.util, json, sys, socket, sqlite3
import airflow.sdk
from airflow.sdk import BaseHook, Connection, Variable
before = set(sys.modules)
opened = []
real_connect, real_socket = sqlite3.connect, socket.socket.connect
sqlite3.connect = lambda *a, **k: opened.append("sqlite") or real_connect(*a, **k)
socket.socket.connect = lambda self, *a: opened.append("socket") or real_socket(self, *a)


def trap(label):
    def refuse(*args, **kwargs):
        opened.append(label)
        raise RuntimeError(label + " read at parse time")

    return staticmethod(refuse)


for owner, name in ((Variable, "get"), (Connection, "get"), (BaseHook, "get_connection")):
    setattr(owner, name, trap(owner.__name__ + "." + name))
spec = importlib.util.spec_from_file_location("dag_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
dags = [v for v in vars(module).values() if type(v).__name__ == "DAG"]


def timeout(t):
    return t.execution_timeout.total_seconds() if t.execution_timeout else None


print(json.dumps({
    "new_modules": sorted(set(sys.modules) - before),
    "opened": opened,
    "dags": [
        {
            "dag_id": d.dag_id,
            "tags": sorted(d.tags),
            "doc_md": d.doc_md or "",
            "schedule": repr(d.timetable),
            "params": sorted(d.params),
            "deadlines": len(d.deadline or []),
            "on_failure": d.on_failure_callback is not None,
            "tasks": {
                t.task_id: {
                    "retries": t.retries,
                    "timeout": timeout(t),
                    "backoff": bool(t.retry_exponential_backoff),
                    "mapped": any(c.__name__ == "MappedOperator" for c in type(t).__mro__),
                    "outlets": sorted(getattr(o, "uri", None) or o.name for o in t.outlets),
                    "pool": t.pool,
                    "on_failure": bool(t.on_failure_callback),
                }
                for t in d.tasks
            },
        }
        for d in dags
    ],
}))
"""


def parse(path: Path, home: Path) -> dict:
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "MIMAMORI_HOME": str(home / "nohome"),
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0 or "parse time" in out.stderr, out.stderr[-2000:]
    if out.returncode != 0:
        return {"opened": ["refused: " + out.stderr.strip().splitlines()[-1]], "new_modules": [], "dags": []}
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["path"] = path
    return result


@pytest.fixture(scope="module", params=DAGS, ids=lambda p: p.name)
def parsed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    return parse(request.param, tmp_path_factory.mktemp("airflow"))


@pytest.fixture(scope="module")
def every_dag(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    home = tmp_path_factory.mktemp("airflow")
    return {d["dag_id"]: d for path in DAGS for d in parse(path, home)["dags"]}


def test_the_dag_set_is_complete(every_dag: dict[str, dict]):
    assert set(every_dag) == DAG_IDS


def test_parsing_defines_dags_with_tags_docs_retries_backoff_and_timeouts(parsed: dict):
    assert parsed["dags"], "no DAG defined"
    for dag in parsed["dags"]:
        assert "mimamori" in dag["tags"] and len(dag["tags"]) >= 2, dag["tags"]
        assert len(dag["doc_md"].strip()) > 80, dag["dag_id"]
        for task_id, task in dag["tasks"].items():
            assert task["retries"] >= 1, (dag["dag_id"], task_id)
            assert task["backoff"], (dag["dag_id"], task_id)
            assert task["timeout"] and 0 < task["timeout"] <= 2 * 3600, (dag["dag_id"], task_id)


def test_parsing_touches_no_database_socket_variable_connection_or_heavy_module(parsed: dict):
    assert parsed["opened"] == []
    heavy = [m for m in parsed["new_modules"] if m.split(".")[0] in FORBIDDEN]
    assert heavy == []
    assert not (Path(parsed["path"]).parent.parent / "nohome").exists()


def test_the_probe_catches_a_dag_file_that_reads_a_variable_a_database_or_pandas(tmp_path: Path):
    # The checks above must be able to fail: a DAG file doing what the policy forbids is caught.
    for body, caught in (
        ("from airflow.sdk import Variable\nVariable.get('partner_list')\n", "Variable.get"),
        ("import sqlite3\nsqlite3.connect(':memory:')\n", "sqlite"),
    ):
        path = tmp_path / "bad_dag.py"
        path.write_text(body)
        assert any(caught in opened for opened in parse(path, tmp_path / "af")["opened"]), body
    path = tmp_path / "heavy_dag.py"
    path.write_text("import pandas\n")
    assert "pandas" in parse(path, tmp_path / "af")["new_modules"]


def test_dag_files_import_only_from_airflow_sdk_and_the_standard_library(parsed: dict):
    tree = ast.parse(Path(parsed["path"]).read_text())
    top_level = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    names = {(n.module if isinstance(n, ast.ImportFrom) else n.names[0].name) or "" for n in top_level}
    assert {n for n in names if n.startswith("airflow")} <= {"airflow.sdk"}
    assert all(n.split(".")[0] in sys.stdlib_module_names | {"airflow", "__future__"} for n in names), names


def test_task_bodies_import_only_our_job_modules(parsed: dict):
    # A task body (or a failure callback) is one call into a package function: only our job modules inside.
    tree = ast.parse(Path(parsed["path"]).read_text())
    inner = {
        alias.name if isinstance(node, ast.ImportFrom) and node.module == "mimamori" else node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node not in tree.body
        for alias in node.names
    }
    assert inner <= {"daily", "jobs", "hub", "alerts"}, inner


def test_daily_dag_wires_the_steps_in_order(every_dag: dict[str, dict]):
    assert list(every_dag["mimamori_daily"]["tasks"]) == [
        "open_run",
        "prepare",
        "ingest",
        "assess_feeds",
        "build",
        "publish",
        "close_run",
    ]


def test_the_daily_list_waits_for_0630_jst_or_the_ingestion_dags_ready_feeds(every_dag: dict[str, dict]):
    schedule = every_dag["mimamori_daily"]["schedule"]
    assert schedule.startswith("AssetOrTimeSchedule(")
    assert "'30 6 * * *'" in schedule and "Asia/Tokyo" in schedule
    assert "mimamori://feeds/ready" in schedule
    ingest = every_dag["mimamori_ingest"]["tasks"]
    assert ingest["announce"]["outlets"] == ["mimamori://feeds/ready"]
    assert ingest["ingest_partner"]["mapped"] and ingest["ingest_partner"]["outlets"] == [
        "mimamori-partner-feeds"
    ]


def test_stewardship_schedules_and_params(every_dag: dict[str, dict]):
    assert "NullTimetable" in every_dag["mimamori_key_rotation"]["schedule"]
    assert every_dag["mimamori_key_rotation"]["params"] == ["key"]
    assert "signal_days" in every_dag["mimamori_retention"]["params"]
    consents = every_dag["mimamori_consents"]["tasks"]["import_consents"]["outlets"]
    assert consents and consents[0].rstrip("/") == "mimamori://consents"
    assert "mimamori://consents" in every_dag["mimamori_purge"]["schedule"]


def test_steward_jobs_run_when_the_portal_asks_and_a_failed_run_fails_its_job(every_dag: dict[str, dict]):
    dag = every_dag["mimamori_steward_jobs"]
    assert "NullTimetable" in dag["schedule"] and dag["params"] == ["job_id"]
    assert list(dag["tasks"]) == ["run_job"] and dag["on_failure"]


def test_the_hub_maps_one_task_per_municipality(every_dag: dict[str, dict]):
    assert every_dag["mimamori_hub"]["tasks"]["run_municipality"]["mapped"]


def test_ruff_airflow_rules_pass_on_dag_files():
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run(
        [str(ruff), "check", "--select", "AIR", *map(str, DAGS)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_writer_of_the_warehouse_shares_one_pool(every_dag: dict[str, dict]):
    # The hub's tasks each write their own municipality's warehouse; every other task writes the one.
    for dag_id, dag in every_dag.items():
        pools = {task["pool"] for task in dag["tasks"].values()}
        assert pools == ({"default_pool"} if dag_id == "mimamori_hub" else {"mimamori_warehouse"}), dag_id


def test_a_failed_morning_calls_for_help_and_a_late_list_has_a_deadline(every_dag: dict[str, dict]):
    for dag_id in ("mimamori_daily", "mimamori_ingest"):
        dag = every_dag[dag_id]
        assert dag["on_failure"] and all(t["on_failure"] for t in dag["tasks"].values()), dag_id
    assert every_dag["mimamori_daily"]["deadlines"] == 1
