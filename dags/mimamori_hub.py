"""A hub serving several municipalities: one mapped task per municipality runs that municipality's day.

The municipalities come from the hub file (`MIMAMORI_HUB_CONFIG`, or the `hub_config` param), read at run
time. Each runs in its own data home with its own warehouse and keys, so the mapped tasks spread over the
Airflow workers and one municipality's failure or retry never touches another's data.

Wiring only: every task is one call into `mimamori.jobs`; XCom carries codes, run ids and counts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import CronTriggerTimetable, Param, dag, task

START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=9)))
DEFAULT_ARGS = {
    "owner": "mimamori",
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": dt.timedelta(minutes=20),
    "execution_timeout": dt.timedelta(hours=2),
}


@dag(
    dag_id="mimamori_hub",
    schedule=CronTriggerTimetable("30 6 * * *", timezone="Asia/Tokyo"),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={
        "run_date": Param(
            None, type=["null", "string"], description="YYYY-MM-DD; default: the logical date (JST)"
        ),
        "hub_config": Param(
            None, type=["null", "string"], description="the hub file; default: $MIMAMORI_HUB_CONFIG"
        ),
    },
    tags=["mimamori", "hub"],
    doc_md=__doc__,
)
def mimamori_hub() -> None:
    """Run the day for every municipality of the hub."""

    @task
    def municipalities(params: Any = None) -> list[str]:
        from mimamori import jobs

        return jobs.municipality_codes(params["hub_config"])

    @task
    def run_date(params: Any = None, logical_date: dt.datetime | None = None, dag_run: Any = None) -> str:
        from mimamori import jobs

        return jobs.run_date(params, logical_date, None, getattr(dag_run, "run_after", None))

    @task(map_index_template="{{ task.op_kwargs['code'] }}")
    def run_municipality(code: str, day: str, params: Any = None, run_id: Any = None) -> dict[str, Any]:
        from mimamori import jobs

        return jobs.run_municipality(code, day, params["hub_config"], dag_run_id=run_id)

    run_municipality.partial(day=run_date()).expand(code=municipalities())


hub_dag = mimamori_hub()
