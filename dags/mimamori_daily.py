"""The morning watchlist and the partner feeds it waits for.

* `mimamori_ingest` polls the inbox every 20 minutes: one mapped task per partner in the registry (read at
  run time) loads that partner's ready deliveries, keyed by delivery id, so a rerun changes nothing. A
  partner whose delivery loaded gets an asset event `mimamori://feeds/<partner>`; once per day, when every
  due feed has been received or is past its due time (declared late), `mimamori://feeds/ready` is emitted.
* `mimamori_daily` builds and publishes each district's list at 06:30 JST, or as soon as the feeds are
  ready, whichever comes first; a later run of the same day keeps the published list as it was.

A task that fails with no retry left, or a run that fails, closes its pipeline run as failed (with the
OpenLineage FAIL event) and tells someone through an Airflow notifier (`mimamori.alerts`); a daily run
whose list is not published by 07:30 JST (`MIMAMORI_LIST_DEADLINE`) misses its deadline and tells too.

Wiring only: every task is one call into `mimamori.jobs`; XCom carries ids and counts.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

# AsyncCallback, DeadlineAlert and DeadlineReference are exported at run time but not to type checkers
# (Airflow 3.3.2): hence the ignore.
from airflow.sdk import (  # type: ignore[attr-defined]
    Asset,
    AssetAlias,
    AssetOrTimeSchedule,
    AsyncCallback,
    CronTriggerTimetable,
    DeadlineAlert,
    DeadlineReference,
    Param,
    TriggerRule,
    dag,
    task,
)

TIMEZONE = "Asia/Tokyo"
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=9)))
# Who is told when a morning goes wrong: an Airflow notifier (SMTP through the `mimamori_alerts`
# connection by default), the recipients, and by when (JST) the day's list must be published.
ALERTING = {
    "notifier": os.environ.get(
        "MIMAMORI_ALERT_NOTIFIER", "airflow.providers.smtp.notifications.smtp.SmtpNotifier"
    ),
    "to": [a.strip() for a in os.environ.get("MIMAMORI_ALERT_TO", "").split(",") if a.strip()],
    "smtp_conn_id": os.environ.get("MIMAMORI_ALERT_CONN", "mimamori_alerts"),
}
# `off` where no scheduler watches deadlines (the embedded dag.test() of the demo).
LIST_DEADLINE = os.environ.get("MIMAMORI_LIST_DEADLINE", "07:30")


def _after_the_morning_run(hhmm: str) -> dt.timedelta:
    """How long after the 06:30 JST run (its logical date) the list is late: `07:30` is one hour."""
    hours, _, minutes = hhmm.partition(":")
    late = dt.timedelta(hours=int(hours), minutes=int(minutes or 0)) - dt.timedelta(hours=6, minutes=30)
    if late <= dt.timedelta(0):
        raise ValueError(f"MIMAMORI_LIST_DEADLINE must be after 06:30 JST, not {hhmm!r}")
    return late


def _task_failed(context: Any) -> None:
    """A task failed with no retry left: close its pipeline run as failed and tell someone."""
    from mimamori import alerts

    ti = context["ti"]
    alerts.task_failed(ALERTING, ti.dag_id, ti.run_id, ti.task_id, context.get("exception"))


def _run_failed(context: Any) -> None:
    """The DAG run failed: close what is still running and tell someone, unless a task already did."""
    from mimamori import alerts

    alerts.run_failed(ALERTING, context["dag"].dag_id, context["run_id"], context.get("reason"))


LATE_LIST = (
    None
    if LIST_DEADLINE == "off"
    else DeadlineAlert(
        reference=DeadlineReference.DAGRUN_LOGICAL_DATE,
        interval=_after_the_morning_run(LIST_DEADLINE),
        callback=AsyncCallback(
            str(ALERTING["notifier"]),
            kwargs={
                "to": ALERTING["to"],
                "subject": f"【見守り】本日のリストが {LIST_DEADLINE} までに公開されていません"
                f" / Mimamori: the list was not published by {LIST_DEADLINE} JST",
                "html_content": f"<p>本日の見守りリストが {LIST_DEADLINE} (JST) までに公開されていません。"
                "Airflow で mimamori_daily の実行を確認してください。<br>"
                f"The day's list was not published by {LIST_DEADLINE} JST: check the mimamori_daily run"
                " {{ dag_run.dag_run_id }} in Airflow.</p>",
                "smtp_conn_id": ALERTING["smtp_conn_id"],
            },
        ),
        name="list_published_by_0730",
    )
)
DEFAULT_ARGS = {
    "owner": "mimamori",
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": dt.timedelta(minutes=20),
    "execution_timeout": dt.timedelta(minutes=30),
    # One writer of the warehouse at a time, whichever DAG it belongs to: the audit log is one sequence.
    # The pool (one slot) is made by the deploy step (`airflow pools set`, see docker-compose.yaml).
    "pool": "mimamori_warehouse",
    "on_failure_callback": _task_failed,
}
RUN_DATE = Param(None, type=["null", "string"], description="YYYY-MM-DD; default: the logical date (JST)")
# A feed that loaded, per partner (assets named at run time through the alias), and the day's feeds ready.
PARTNER_FEEDS = AssetAlias("mimamori-partner-feeds")
FEEDS_READY = Asset("mimamori://feeds/ready", group="mimamori")

# The steps of mimamori.daily, in order; each is one task (a DAG test checks they match).
STEPS = ("prepare", "ingest", "assess_feeds", "build", "publish", "close_run")


def _step(name: str) -> Any:
    """A task that runs one step of the day for the run opened by `open_run`."""

    @task(task_id=name)
    def step(mimamori_run: str) -> dict[str, Any]:
        from mimamori import jobs

        return jobs.day_step(name, mimamori_run)

    return step


@dag(
    dag_id="mimamori_daily",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("30 6 * * *", timezone=TIMEZONE), assets=FEEDS_READY
    ),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={"run_date": RUN_DATE},
    on_failure_callback=_run_failed,
    deadline=LATE_LIST,
    tags=["mimamori", "daily"],
    doc_md=__doc__,
)
def mimamori_daily() -> None:
    """Build and publish each district's watchlist for the day."""

    @task
    def open_run(
        params: dict[str, Any] | None = None,
        logical_date: dt.datetime | None = None,
        run_id: str | None = None,
        dag_run: Any = None,
        triggering_asset_events: Any = None,
    ) -> str:
        from mimamori import jobs

        events = triggering_asset_events[FEEDS_READY] if triggering_asset_events else []
        announced = [str(event.extra.get("run_date", "")) for event in events]
        day = jobs.run_date(params, logical_date, announced, getattr(dag_run, "run_after", None))
        return jobs.open_day(day, dag_run_id=run_id)

    run = open_run()
    previous = run
    for name in STEPS:
        current = _step(name)(run)
        previous >> current
        previous = current


@dag(
    dag_id="mimamori_ingest",
    schedule=CronTriggerTimetable("*/20 * * * *", timezone=TIMEZONE),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args={**DEFAULT_ARGS, "execution_timeout": dt.timedelta(minutes=20)},
    params={"run_date": RUN_DATE},
    on_failure_callback=_run_failed,
    tags=["mimamori", "ingest"],
    doc_md=__doc__,
)
def mimamori_ingest() -> None:
    """Load each partner's ready deliveries as they arrive and announce when the day's feeds are in."""

    @task
    def open_ingest(
        params: dict[str, Any] | None = None,
        logical_date: dt.datetime | None = None,
        run_id: str | None = None,
        dag_run: Any = None,
    ) -> str:
        from mimamori import jobs

        day = jobs.run_date(params, logical_date, None, getattr(dag_run, "run_after", None))
        return jobs.open_ingest(day, dag_run_id=run_id)

    @task
    def prepare(mimamori_run: str) -> dict[str, Any]:
        from mimamori import jobs

        return jobs.prepare_once(mimamori_run)

    @task
    def partners() -> list[str]:
        from mimamori import jobs

        return jobs.partner_ids()

    # One writer per warehouse at a time (the pool, and here one partner at a time as well); the hub
    # spreads municipalities, each with its own warehouse, over the workers.
    @task(outlets=[PARTNER_FEEDS], max_active_tis_per_dag=1)
    def ingest_partner(mimamori_run: str, partner_id: str, outlet_events: Any = None) -> dict[str, Any]:
        from mimamori import jobs

        result = jobs.ingest_partner(mimamori_run, partner_id)
        if result["deliveries"].get("loaded"):
            outlet_events[PARTNER_FEEDS].add(
                Asset(f"mimamori://feeds/{partner_id}", group="mimamori"),
                extra={"rows_loaded": result["rows_loaded"]},
            )
        return result

    @task(trigger_rule=TriggerRule.NONE_FAILED)
    def close_ingest(mimamori_run: str) -> dict[str, Any]:
        from mimamori import jobs

        return jobs.close_ingest(mimamori_run)

    @task.short_circuit
    def feeds_complete(
        mimamori_run: str, logical_date: dt.datetime | None = None, dag_run: Any = None
    ) -> bool:
        from mimamori import jobs

        return jobs.feeds_complete(mimamori_run, logical_date or dag_run.run_after)

    @task(outlets=[FEEDS_READY])
    def announce(mimamori_run: str, outlet_events: Any = None) -> str:
        from mimamori import jobs

        day = jobs.run_date_of(mimamori_run)
        outlet_events[FEEDS_READY].extra = {"run_date": day}
        return day

    # airflow.sdk types a task call by the function's own parameters, so the XComArg that stands for the
    # run id (a str when the task runs) is an arg-type error to mypy; ignored on those calls only.
    run = open_ingest()
    loaded = ingest_partner.partial(mimamori_run=run).expand(partner_id=partners())
    prepare(run) >> loaded  # type: ignore[arg-type]
    closed = close_ingest(run)  # type: ignore[arg-type]
    loaded >> closed
    complete = feeds_complete(run)  # type: ignore[arg-type]
    closed >> complete
    complete >> announce(run)  # type: ignore[arg-type]


daily_dag = mimamori_daily()
ingest_dag = mimamori_ingest()
