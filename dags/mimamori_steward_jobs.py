"""Long work a steward starts from the portal in production: a large consent import, a quarantine release.

Wiring only: the portal records the job in the warehouse (`steward_jobs`) and queues a run of this DAG
through Airflow's REST API with `conf={"job_id": ...}`; the one task calls `mimamori.jobs.run_steward_job`,
which does the work and keeps the job's progress, shown on the portal's page `/steward/jobs/{id}`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import Param, dag, task

START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=9)))


def _run_failed(context: Any) -> None:
    """A run that ended failed (a killed worker, a timeout) leaves its job marked failed, not running."""
    from mimamori import jobs

    jobs.steward_job_stopped(str(context["params"]["job_id"]), str(context.get("reason") or "DAG run failed"))


@dag(
    dag_id="mimamori_steward_jobs",
    schedule=None,
    start_date=START,
    catchup=False,
    default_args={
        "owner": "mimamori",
        "retries": 1,  # the work resumes safely: an import skips rows already recorded
        "retry_delay": dt.timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "execution_timeout": dt.timedelta(hours=2),
        "pool": "mimamori_warehouse",  # one writer of the warehouse at a time (see mimamori_stewardship)
    },
    params={"job_id": Param("", type="string", minLength=1, maxLength=40, description="the steward job")},
    tags=["mimamori", "steward"],
    on_failure_callback=_run_failed,
    doc_md="""Triggered by the portal only (`conf={"job_id": ...}`): runs one steward job recorded in the
warehouse, a consent import of an uploaded form (kept sealed in the shared data home) or a quarantine
release, and records its progress and end (done, or failed with the reason) in `steward_jobs`.""",
)
def mimamori_steward_jobs() -> None:
    """Run one steward job started from the portal."""

    @task
    def run_job(params: Any = None) -> str:
        from mimamori import jobs

        return jobs.run_steward_job(str(params["job_id"]))

    run_job()


steward_jobs_dag = mimamori_steward_jobs()
