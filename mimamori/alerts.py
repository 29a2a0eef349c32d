"""A morning that calls for help: a failed DAG run closes its pipeline run as failed and tells someone.

The DAG files call these from their failure callbacks with plain values. Whom to tell and how is an
Airflow notifier (by default the SMTP provider's, through an Airflow connection), named by its dotted path
and built with the SMTP notifier's arguments (`to`, `subject`, `html_content`, `smtp_conn_id`), so a
municipality can name another notifier that takes them. Messages carry the DAG, its run, the task and the
first line of the error: never a person (errors never name one).
"""

from __future__ import annotations

import html
import importlib
import logging
from typing import Any

from sqlalchemy import select

from mimamori import daily
from mimamori.context import RunContext
from warehouse.db import session_scope
from warehouse.errors import ConfigurationError
from warehouse.models import PipelineRun
from warehouse.vocabulary import RunStatus

log = logging.getLogger(__name__)

# How the DAG files pass who is told: notifier path, recipients and the Airflow connection it uses.
Alerting = dict[str, Any]


def notifier_kwargs(alerting: Alerting, subject: str, text: str) -> dict[str, Any]:
    """The arguments of the notifier for one message (the SMTP notifier's; text becomes escaped HTML)."""
    body = "<br>".join(html.escape(line) for line in text.splitlines())
    return {
        "to": list(alerting.get("to") or []),
        "subject": subject,
        "html_content": f"<p>{body}</p>",
        "smtp_conn_id": alerting.get("smtp_conn_id"),
    }


def notify(alerting: Alerting, subject: str, text: str, context: dict[str, Any] | None = None) -> None:
    """Send one message through the configured Airflow notifier (synchronously, as callbacks run)."""
    if not alerting.get("to"):
        log.error(
            "通知先がありません（MIMAMORI_ALERT_TO）/ MIMAMORI_ALERT_TO is empty, nobody was told: %s",
            subject,
        )
        return
    module, _, name = str(alerting["notifier"]).rpartition(".")
    notifier_class = getattr(importlib.import_module(module), name)
    notifier_class(**notifier_kwargs(alerting, subject, text))(dict(context or {}))


def brief(reason: object) -> str:
    """An error's type and first line, shortened (a database error's later lines list its parameters)."""
    line = (str(reason or "").strip().splitlines() or ["(理由不明 / no reason given)"])[0][:300]
    return f"{type(reason).__name__}: {line}" if isinstance(reason, BaseException) else line


def close_failed(dag_run_id: str, reason: str) -> list[str]:
    """Close every pipeline run of the DAG run still `running` as failed (each emits its FAIL event)."""
    ctx = RunContext.from_environment()  # an Airflow callback is an entry point
    with session_scope(ctx.settings.database_url) as session:
        running = list(
            session.execute(
                select(PipelineRun.run_id).where(
                    PipelineRun.dag_run_id == dag_run_id, PipelineRun.status == RunStatus.RUNNING
                )
            ).scalars()
        )
    for run_id in running:
        daily.fail_run(ctx, run_id, reason)
    return running


def _message(what_ja: str, what_en: str, dag_id: str, dag_run_id: str, lines: list[str]) -> tuple[str, str]:
    subject = f"【見守り】{what_ja} / Mimamori: {what_en} ({dag_id})"
    text = "\n".join(
        [
            f"{what_ja}。/ {what_en}.",
            f"DAG: {dag_id}",
            f"DAG実行 / DAG run: {dag_run_id}",
            *lines,
            "Airflow の画面でログを確認し、原因を直してから再実行してください。"
            " / Read the task log in Airflow, fix the cause, then clear the failed task to rerun it.",
        ]
    )
    return subject, text


def task_failed(alerting: Alerting, dag_id: str, dag_run_id: str, task_id: str, reason: object) -> list[str]:
    """A task failed for good (no retry left): close its pipeline runs as failed and notify."""
    why = f"{task_id}: {brief(reason)}"
    closed = close_failed(dag_run_id, why)
    subject, text = _message(
        "処理が失敗しました",
        "a task failed",
        dag_id,
        dag_run_id,
        [f"タスク / task: {task_id}", f"理由 / reason: {brief(reason)}", _closed(closed)],
    )
    notify(alerting, subject, text)
    return closed


def run_failed(alerting: Alerting, dag_id: str, dag_run_id: str, reason: object) -> list[str]:
    """The DAG run failed: close what is still running; notify unless a task's failure already did.

    A task that failed told someone itself and closed the runs; what is still running here was stopped
    from outside (a timeout, a worker lost, a run marked failed by hand). Where the warehouse settings are
    not at hand (Airflow's DAG processor in production holds no keys) it notifies without closing.
    """
    lines = [f"理由 / reason: {brief(reason)}"]
    try:
        closed = close_failed(dag_run_id, f"DAG run failed: {brief(reason)}")
    except ConfigurationError as problem:  # Airflow's DAG processor holds no warehouse keys in production
        log.warning("runs of DAG run %s not closed here: %s", dag_run_id, brief(problem))
        closed = []
        lines.append(
            "この処理からは実行を閉じられません（ワーカーのタスクが閉じます）"
            f" / runs not closed from this process: {brief(problem)}"
        )
    if closed or len(lines) > 1:
        subject, text = _message(
            "実行が失敗しました", "a run failed", dag_id, dag_run_id, [*lines, _closed(closed)]
        )
        notify(alerting, subject, text)
    return closed


def _closed(run_ids: list[str]) -> str:
    if not run_ids:
        return "閉じた実行 / runs closed: なし / none"
    return "失敗として閉じた実行 / runs closed as failed: " + ", ".join(run_ids)
