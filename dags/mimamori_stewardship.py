"""Consent and data stewardship: consent import, withdrawal purge, retention and key rotation.

Wiring only: every task is one call into `mimamori.jobs`; XCom carries dates and counts, never a person.
Each job appends to the audit log (consent changes, purges, deletions, rotations) and signs a checkpoint.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task

TIMEZONE = "Asia/Tokyo"
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=9)))
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
}
RUN_DATE = Param(None, type=["null", "string"], description="YYYY-MM-DD; default: the logical date (JST)")
CONSENTS = Asset("mimamori://consents", group="mimamori")


# airflow.sdk types a task call by the function's own parameters, so passing the XComArg of `run_date` (a str
# when the task runs) is an arg-type error to mypy; it is ignored on those calls only.
@task
def run_date(
    params: dict[str, Any] | None = None, logical_date: dt.datetime | None = None, dag_run: Any = None
) -> str:
    """The date this run works on: the run_date param, else the logical date (JST)."""
    from mimamori import jobs

    return jobs.run_date(params, logical_date, None, getattr(dag_run, "run_after", None))


@dag(
    dag_id="mimamori_consents",
    schedule=CronTriggerTimetable("0 5 * * *", timezone=TIMEZONE),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={"run_date": RUN_DATE},
    tags=["mimamori", "consent"],
    doc_md="""Import the consent files (`consents/*.csv`) dated up to the day, each change an audited
version; importing a file twice changes nothing. Emits `mimamori://consents`, which starts the purge.""",
)
def mimamori_consents() -> None:
    """Import consent files at 05:00 JST."""

    @task(outlets=[CONSENTS])
    def import_consents(day: str) -> dict[str, int]:
        from mimamori import jobs

        return jobs.import_consents(day)

    import_consents(run_date())  # type: ignore[arg-type]


@dag(
    dag_id="mimamori_purge",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("30 5 * * *", timezone=TIMEZONE), assets=CONSENTS
    ),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={"run_date": RUN_DATE},
    tags=["mimamori", "consent", "purge"],
    doc_md="""Purge every resident whose consents were all withdrawn or have expired by the day: signals,
scores, later list entries, links and identity go, a tombstone stays, each purge audited. Runs after each
consent import and at 05:30 JST.""",
)
def mimamori_purge() -> None:
    """Purge withdrawn and expired residents."""

    @task
    def purge(day: str) -> dict[str, int]:
        from mimamori import jobs

        return jobs.purge_ended(day)

    purge(run_date())  # type: ignore[arg-type]


@dag(
    dag_id="mimamori_retention",
    schedule=CronTriggerTimetable("0 3 * * *", timezone=TIMEZONE),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={
        "run_date": RUN_DATE,
        "signal_days": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            description="keep signals fewer days this run only (default: the retention setting)",
        ),
    },
    tags=["mimamori", "retention"],
    doc_md="""Delete what is past its retention period (the `MIMAMORI_RETENTION_*` settings: signals 90 days,
sealed archive 30, quarantine 90, consent forms 30, outbox 30 by default) and records of provision past their
keep-until date; every deletion is an audit record. `signal_days` can only shorten the window for one run.
Runs at 03:00 JST.""",
)
def mimamori_retention() -> None:
    """Expire old signals and records of provision."""

    @task
    def expire(day: str, params: Any = None) -> dict[str, int]:
        from mimamori import jobs

        days = params["signal_days"]
        return jobs.expire(day, None if days is None else int(days))

    expire(run_date())  # type: ignore[arg-type]


@dag(
    dag_id="mimamori_key_rotation",
    schedule=None,
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args={**DEFAULT_ARGS, "retries": 1, "execution_timeout": dt.timedelta(hours=2)},
    params={
        "key": Param("pseudonym", type="string", enum=["pseudonym", "vault"], description="the key to rotate")
    },
    tags=["mimamori", "keys"],
    doc_md="""Manual trigger only. Rotate the pseudonym key (every pseudonym re-keyed to the newest key in
one transaction) or the vault key (everything sealed re-encrypted). In production put the new key first
in the key variable before triggering; a crash leaves the old key in use and the run can be repeated.""",
)
def mimamori_key_rotation() -> None:
    """Rotate one key on demand."""

    @task
    def rotate(params: Any = None) -> dict[str, Any]:
        from mimamori import jobs

        return jobs.rotate_key(str(params["key"]))

    rotate()


consents_dag = mimamori_consents()
purge_dag = mimamori_purge()
retention_dag = mimamori_retention()
key_rotation_dag = mimamori_key_rotation()
