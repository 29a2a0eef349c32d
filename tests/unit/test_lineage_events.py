"""The lineage event transports and the ids and versions events are keyed by."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState

from lineage import events as lineage_events
from lineage.datasets import delivery_version, warehouse_namespace
from lineage.events import MemoryTransport, file_transport, read_events, redirected
from mimamori.settings import airflow_task

pytestmark = pytest.mark.unit


def event(kind: str, job: str) -> RunEvent:
    return RunEvent(
        eventType=RunState(kind),
        eventTime="2026-11-02T06:30:00Z",
        run=Run(runId=str(uuid.uuid4())),
        job=Job(namespace="mimamori/149999", name=job),
        producer="urn:mimamori:test",
    )


def test_the_file_transport_appends_one_json_line_per_event(tmp_path: Path):
    path = tmp_path / "lineage" / "events.jsonl"
    first, second = file_transport(path), file_transport(path)
    first.emit(event("START", "見守り"))
    second.emit(event("COMPLETE", "daily_run"))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["eventType"] for line in lines] == ["START", "COMPLETE"]
    assert [(e["eventType"], e["job"]["name"]) for e in read_events(path)] == [
        ("START", "見守り"),
        ("COMPLETE", "daily_run"),
    ]
    assert read_events(tmp_path / "missing.jsonl") == []


def test_redirection_sends_events_to_the_double_and_then_back(tmp_path: Path):
    class Home:
        def path(self, *parts: str) -> Path:
            return tmp_path.joinpath(*parts)

    settings = Home()
    with redirected(MemoryTransport()) as memory:
        assert lineage_events.transport_for(settings, {}) is memory
    after = lineage_events.transport_for(settings, {})
    assert after.kind == "file"
    assert after.config.log_file_path == str(tmp_path / "lineage" / "events.jsonl")  # type: ignore[attr-defined]


def test_the_clients_own_configuration_takes_the_events_elsewhere(tmp_path: Path):
    assert lineage_events.client_config({"MIMAMORI_HOME": "x", "OPENLINEAGE_DISABLED": "false"}) == {}
    assert lineage_events.client_config({"OPENLINEAGE_URL": ""}) == {}  # compose's unset default
    http = lineage_events.client_config({"OPENLINEAGE_URL": "http://127.0.0.1:5000"})["transport"]
    assert (http["type"], http["url"], http["endpoint"]) == (
        "http",
        "http://127.0.0.1:5000",
        "api/v1/lineage",
    )
    (tmp_path / "openlineage.yml").write_text("transport:\n  type: console\n", encoding="utf-8")
    from_file = lineage_events.client_config({"OPENLINEAGE_CONFIG": str(tmp_path / "openlineage.yml")})
    assert from_file == {"transport": {"type": "console"}}
    assert lineage_events.client_config({"OPENLINEAGE__TRANSPORT__TYPE": "console"}) == from_file


def test_a_configured_client_leaves_the_process_environment_alone(monkeypatch: pytest.MonkeyPatch):
    before = dict(os.environ)
    transport = lineage_events.transport_for(Path("/nonexistent"), {"OPENLINEAGE_URL": "http://127.0.0.1:9"})  # type: ignore[arg-type]
    assert transport.kind == "http"
    assert dict(os.environ) == before


def test_step_run_ids_are_stable_per_run_and_step_and_distinct_between_them():
    run = str(uuid.uuid4())
    assert lineage_events.step_run_id(run, "daily_run.ingest") == lineage_events.step_run_id(
        run, "daily_run.ingest"
    )
    ids = {lineage_events.step_run_id(run, f"daily_run.{s}") for s in ("prepare", "ingest", "build")}
    assert len(ids) == 3 and run not in ids
    assert lineage_events.step_run_id(str(uuid.uuid4()), "daily_run.ingest") not in ids
    assert lineage_events.step_job("ingest", "kanda-coop") == "daily_run.ingest.kanda-coop"
    assert lineage_events.dag_run_uuid("manual__1") != lineage_events.dag_run_uuid("manual__2")


def test_a_delivery_version_is_its_file_checksum_or_a_digest_of_all_of_them():
    one = [{"name": "events.csv", "sha256": "a" * 64, "rows": 3}]
    assert delivery_version(one) == "a" * 64
    two = [*one, {"name": "b.csv", "sha256": "b" * 64, "rows": 1}]
    assert delivery_version(two) == delivery_version(list(reversed(two)))
    assert len(delivery_version(two)) == 64 and delivery_version(two) not in ("a" * 64, "b" * 64)


def test_the_warehouse_namespace_never_carries_credentials():
    namespace, prefix = warehouse_namespace("postgresql+psycopg://mimamori:s3cret@db:5433/town")
    assert (namespace, prefix) == ("postgres://db:5433", "town.public")
    assert warehouse_namespace("sqlite:////var/home/warehouse.db") == (
        "sqlite:///var/home/warehouse.db",
        "main",
    )


def test_the_dag_of_a_run_is_read_from_the_task_environment_only_for_that_dag_run():
    assert airflow_task({}) is None
    assert lineage_events.airflow_dag(None, "scheduled__1") == "mimamori_daily"
    task = airflow_task({"AIRFLOW_CTX_DAG_ID": "mimamori_ingest", "AIRFLOW_CTX_DAG_RUN_ID": "scheduled__1"})
    assert lineage_events.airflow_dag(task, "scheduled__1") == "mimamori_ingest"
    assert lineage_events.airflow_dag(task, "scheduled__2") == "mimamori_daily"  # another run's leftover
    assert lineage_events.dag_run_uuid("scheduled__1", "mimamori_ingest") != lineage_events.dag_run_uuid(
        "scheduled__1"
    )


def test_each_try_of_an_airflow_task_is_its_own_step_run():
    run = str(uuid.uuid4())
    assert lineage_events.attempt(None, None) == lineage_events.attempt(None, "scheduled__1") == 1
    task = airflow_task({"AIRFLOW_CTX_DAG_RUN_ID": "scheduled__1", "AIRFLOW_CTX_TRY_NUMBER": "2"})
    assert lineage_events.attempt(task, "scheduled__1") == 2
    assert lineage_events.attempt(task, "scheduled__2") == 1
    odd = airflow_task({"AIRFLOW_CTX_DAG_RUN_ID": "scheduled__1", "AIRFLOW_CTX_TRY_NUMBER": "x"})
    assert lineage_events.attempt(odd, "scheduled__1") == 1
    first, second = (lineage_events.step_run_id(run, "daily_run.build", n) for n in (1, 2))
    assert first == lineage_events.step_run_id(run, "daily_run.build") != second
