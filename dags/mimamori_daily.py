"""The morning watchlist: ingest, validate, load, build and publish, at 06:30 JST.

Wiring only: every task is one call into `mimamori.daily`; XCom carries the run id and counts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from airflow.sdk import Param, dag, task

JST = ZoneInfo("Asia/Tokyo")
DEFAULT_ARGS = {
    "owner": "mimamori",
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": dt.timedelta(minutes=20),
    "execution_timeout": dt.timedelta(minutes=30),
}


# The steps of mimamori.daily, in order; each is one task (a DAG test checks they match).
STEPS = ("prepare", "ingest", "assess_feeds", "build", "publish", "close_run")


def _step(name: str) -> Any:
    """A task that runs one step of the day for the run opened by `open_run`."""

    @task(task_id=name)
    def step(mimamori_run: str) -> dict[str, Any]:
        from mimamori import daily

        result: dict[str, Any] = getattr(daily, name)(mimamori_run)
        return result

    return step


@dag(
    dag_id="mimamori_daily",
    schedule="30 6 * * *",
    start_date=dt.datetime(2026, 1, 1, tzinfo=JST),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={
        "run_date": Param(
            None, type=["null", "string"], description="YYYY-MM-DD; default: logical date (JST)"
        )
    },
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
    ) -> str:
        from mimamori import daily

        return daily.open_run(daily.run_date_for(params, logical_date), dag_run_id=run_id)

    run = open_run()
    previous = run
    for name in STEPS:
        current = _step(name)(run)
        previous >> current
        previous = current


daily_dag = mimamori_daily()
