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
# Modules a DAG file must not import at parse time (ours are heavy or open databases and keys).
FORBIDDEN = (
    "pandas",
    "great_expectations",
    "connectors",
    "identity",
    "consent",
    "expectations",
    "warehouse",
    "watchlist",
    "mimamori",
)

PROBE = r"""
import importlib.util, json, sys, socket, sqlite3
import airflow.sdk
before = set(sys.modules)
opened = []
real_connect, real_socket = sqlite3.connect, socket.socket.connect
sqlite3.connect = lambda *a, **k: opened.append("sqlite") or real_connect(*a, **k)
socket.socket.connect = lambda self, *a: opened.append("socket") or real_socket(self, *a)
spec = importlib.util.spec_from_file_location("dag_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
dags = [v for v in vars(module).values() if type(v).__name__ == "DAG"]
print(json.dumps({
    "new_modules": sorted(set(sys.modules) - before),
    "opened": opened,
    "dags": [{"dag_id": d.dag_id, "tags": sorted(d.tags), "tasks": {t.task_id: t.retries for t in d.tasks}}
             for d in dags],
}))
"""


@pytest.fixture(scope="module", params=DAGS, ids=lambda p: p.name)
def parsed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("airflow")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "MIMAMORI_HOME": str(home / "nohome"),
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(request.param)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["path"] = request.param
    return result


def test_dag_files_exist():
    assert [p.name for p in DAGS] == ["mimamori_daily.py"]


def test_parsing_defines_dags_with_tags_and_retries(parsed: dict):
    assert parsed["dags"], "no DAG defined"
    for dag in parsed["dags"]:
        assert "mimamori" in dag["tags"]
        assert all(retries >= 1 for retries in dag["tasks"].values()), dag["tasks"]


def test_parsing_touches_no_database_socket_or_heavy_module(parsed: dict):
    assert parsed["opened"] == []
    heavy = [m for m in parsed["new_modules"] if m.split(".")[0] in FORBIDDEN]
    assert heavy == []
    assert not (Path(parsed["path"]).parent.parent / "nohome").exists()


def test_dag_files_import_only_from_airflow_sdk_and_the_standard_library(parsed: dict):
    tree = ast.parse(Path(parsed["path"]).read_text())
    top_level = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    names = {(n.module if isinstance(n, ast.ImportFrom) else n.names[0].name) or "" for n in top_level}
    assert {n for n in names if n.startswith("airflow")} <= {"airflow.sdk"}
    assert all(n.split(".")[0] in sys.stdlib_module_names | {"airflow", "__future__"} for n in names), names


def test_daily_dag_wires_the_steps_in_order(parsed: dict):
    daily = next(d for d in parsed["dags"] if d["dag_id"] == "mimamori_daily")
    assert list(daily["tasks"]) == [
        "open_run",
        "prepare",
        "ingest",
        "assess_feeds",
        "build",
        "publish",
        "close_run",
    ]


def test_ruff_airflow_rules_pass_on_dag_files():
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run(
        [str(ruff), "check", "--select", "AIR", *map(str, DAGS)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
