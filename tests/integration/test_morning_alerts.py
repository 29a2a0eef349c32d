"""A morning that calls for help: under dag.test(), a failing task closes its run as failed, emits the FAIL
event and calls the notifier; a list published after its deadline calls the deadline's notifier.

The notifier is a real Airflow notifier (tests/integration/recording_notifier.py) named by the setting the
DAG file reads, run by Airflow's own callback machinery; only the mail is replaced by a file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from dag_runner import run_dags
from openlineage_schema import needs_spec, problems
from recording_notifier import recorded
from sqlalchemy import select

from lineage.events import read_events
from mimamori.settings import database_url
from warehouse.db import session_scope
from warehouse.models import PipelineRun

pytestmark = pytest.mark.integration
ALERTING = {
    "MIMAMORI_ALERT_NOTIFIER": "recording_notifier.RecordingNotifier",
    "MIMAMORI_ALERT_TO": "kaigo@example.lg.jp,soumu@example.lg.jp",
    "MIMAMORI_ALERT_CONN": "mimamori_alerts",
}


# The day of 2 November, each failure final at once (no retry waits under dag.test()).
FAILING_DAY = {
    "dag_id": "mimamori_daily",
    "logical_date": "2026-11-02T06:30:00+09:00",
    "retries": 0,
    "expect": "failed",
}


def break_the_build(home: Path) -> None:
    """An override naming a rule that does not exist: the build step fails, whatever the retries."""
    (home / "rules.yaml").write_text("rules:\n  no_such_rule: {weight: 1}\n", encoding="utf-8")


def pipeline_runs() -> list[tuple[str, str, str]]:
    """The runs in the data home's warehouse (SQLite, or PostgreSQL on the `make test-postgres` pass)."""
    with session_scope(database_url()) as session:
        runs = session.execute(select(PipelineRun).order_by(PipelineRun.started_at)).scalars().all()
    return [(run.run_id, run.status, run.summary.get("error", "")) for run in runs]


@needs_spec
def test_a_failing_task_closes_the_run_as_failed_emits_fail_and_calls_the_notifier(
    tiny: Path, airflow_template: Path, tmp_path: Path
):
    break_the_build(tiny)
    sent = tmp_path / "sent.jsonl"
    (report,) = run_dags(
        tiny,
        airflow_template,
        [FAILING_DAY],
        MIMAMORI_TEST_NOTIFICATIONS=str(sent),
        **ALERTING,
    )
    assert report["tasks"]["build"] == "failed"
    assert report["tasks"]["publish"] == report["tasks"]["close_run"] == "upstream_failed"

    [(run_id, status, error)] = pipeline_runs()
    assert status == "failed" and error.startswith("build: InputError:") and "no_such_rule" in error

    events = read_events(tiny / "lineage" / "events.jsonl")
    run_events = [e for e in events if e["job"]["name"] == "daily_run" and e["run"]["runId"] == run_id]
    assert [e["eventType"] for e in run_events] == ["START", "FAIL"]
    assert run_events[-1]["run"]["facets"]["errorMessage"]["message"].startswith("build: InputError:")
    assert [p for e in run_events for p in problems(e)] == []

    # One message: the task's callback told; the run's callback found the run already closed.
    [message] = recorded(sent)
    assert message["how"] == "sync" and message["smtp_conn_id"] == "mimamori_alerts"
    assert message["to"] == ["kaigo@example.lg.jp", "soumu@example.lg.jp"]
    assert (
        message["subject"].startswith("【見守り】処理が失敗しました")
        and "mimamori_daily" in message["subject"]
    )
    assert "build" in message["html_content"] and run_id in message["html_content"]
    assert report["run_id"] in message["html_content"]


def test_a_list_not_published_by_the_deadline_calls_the_deadline_notifier(
    tiny: Path, airflow_template: Path, tmp_path: Path
):
    # The day of 2 November runs weeks later and fails: its list was not published by 07:45 JST that day.
    # (Airflow 3.3's dag.test() cannot finish a successful run of a DAG with a deadline: see airflow_local.)
    break_the_build(tiny)
    sent = tmp_path / "sent.jsonl"
    ran, deadlines = run_dags(
        tiny,
        airflow_template,
        [
            FAILING_DAY,
            {"missed_deadlines": True},
        ],
        MIMAMORI_TEST_NOTIFICATIONS=str(sent),
        MIMAMORI_LIST_DEADLINE="07:45",
        **ALERTING,
    )
    [missed] = deadlines["deadlines"]
    assert missed["dag_id"] == "mimamori_daily"
    assert [e["state"] for e in missed["events"]] == ["running", "success"]
    [failed, message] = recorded(sent)
    assert failed["how"] == "sync" and message["how"] == "async"
    assert message["to"] == ["kaigo@example.lg.jp", "soumu@example.lg.jp"]
    assert message["subject"].startswith("【見守り】本日のリストが 07:45 までに公開されていません")
    assert ran["run_id"] in message["html_content"]  # the template named the late DAG run
    with sqlite3.connect(tiny / "airflow" / "airflow.db") as db:
        [(deadline_time,)] = db.execute("SELECT deadline_time FROM deadline WHERE missed").fetchall()
    assert str(deadline_time).startswith("2026-11-01 22:45")  # 07:45 JST
