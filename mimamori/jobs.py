"""Jobs the DAGs run besides the daily steps: per-partner ingest, consents, retention, purge, keys.

These are the entry points of the DAG tasks: each takes and returns plain values (dates as YYYY-MM-DD, ids,
counts), builds one RunContext from the task's environment, hands it down, and signs an audit checkpoint
when it may have appended to the audit log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors import health
from consent.book import ConsentBook
from consent.purge import purge
from identity.rotation import active_pseudonym_keys
from lineage import events as lineage_events
from lineage.steps import declares
from mimamori import archive_purge, daily, hub, key_rotation, retention_run, steward_jobs
from mimamori.context import RunContext
from mimamori.settings import process_environment
from warehouse.db import engine_for, session_scope, utcnow
from warehouse.errors import InputError
from warehouse.models import PipelineRun
from warehouse.runs import get_run
from warehouse.vocabulary import JST, RunStatus

# An ingestion pass is recorded as a pipeline run with its own final status, so that the daily run's
# "already published" and "latest successful run" lookups (status 'success') never mistake it for a day.
INGESTED = RunStatus.INGESTED
ANNOUNCED = "feeds_complete_announced"


def run_date(
    params: dict[str, Any] | None,
    logical_date: dt.datetime | None,
    announced: list[str] | None = None,
    run_after: dt.datetime | None = None,
) -> str:
    """The date a DAG run works on: its run_date param, its logical date, the announced day, or run_after."""
    if (params and params.get("run_date")) or logical_date is not None:
        return daily.run_date_for(params, logical_date)
    days = sorted({daily.parse_run_date(day).isoformat() for day in announced or [] if day})
    if days:
        return days[-1]
    if run_after is None:
        raise InputError("a DAG run without a run_date param, logical date or triggering feed event")
    return run_after.astimezone(JST).date().isoformat()


def open_ingest(day: str, dag_run_id: str | None = None) -> str:
    """Open an ingestion pass for the date (a pipeline run of its own kind); returns its run id."""
    ctx = RunContext.from_environment()
    run_id = daily.open_run(ctx, day, dag_run_id)
    with session_scope(ctx.settings.database_url) as session:
        run = get_run(session, run_id)
        run.summary = {"kind": "ingest"}
    return run_id


def run_date_of(run_id: str) -> str:
    """The date a pipeline run (a day or an ingestion pass) is for."""
    return RunContext.from_environment().run(run_id).run_date.isoformat()


def prepare_once(run_id: str) -> dict[str, Any]:
    """An ingestion pass's preparation: the day's `prepare` (consents, register, purge, retention), unless
    an earlier pass or run of the same date already did it; then the pass records which run did."""
    ctx = RunContext.from_environment()
    with session_scope(ctx.settings.database_url) as session:
        run = get_run(session, run_id)
        earlier = session.execute(
            select(PipelineRun.run_id, PipelineRun.summary).where(
                PipelineRun.run_date == run.run_date,
                PipelineRun.run_id != run_id,
                PipelineRun.status.in_((RunStatus.SUCCESS, INGESTED)),
            )
        ).all()
        done_by = sorted(other for other, summary in earlier if "prepare" in summary)
        if done_by:
            run.summary = {**run.summary, "prepare": {"skipped": "prepared", "by": done_by[0]}}
            return dict(run.summary["prepare"])
    return daily.prepare(ctx, run_id)


def partner_ids() -> list[str]:
    """The ids in the partner registry, read at run time."""
    return sorted(RunContext.from_environment().partners)


def ingest_partner(run_id: str, partner_id: str) -> dict[str, Any]:
    """Ingest one partner's ready deliveries for the pass (deliveries already final are skipped)."""
    return daily.ingest(RunContext.from_environment(), run_id, partner_id)


def open_day(day: str, dag_run_id: str | None = None) -> str:
    """Open the daily run for the date; returns its run id."""
    return daily.open_run(RunContext.from_environment(), day, dag_run_id)


def day_step(name: str, run_id: str) -> dict[str, Any]:
    """Run one step of the day (`daily.STEPS`, or `close_run`) for the run opened by `open_day`."""
    if name not in (*daily.STEPS, "close_run"):
        raise InputError(f"not a step of the day: {name!r}")
    step: Callable[[RunContext, str], dict[str, Any]] = getattr(daily, name)
    return step(RunContext.from_environment(), run_id)


def feeds_complete(run_id: str, at: dt.datetime) -> bool:
    """True once per date: every due feed is received or, past its due time at `at`, declared late."""
    ctx = RunContext.from_environment()
    settings = ctx.settings
    with session_scope(settings.database_url) as session:
        run = get_run(session, run_id)
        day = run.run_date
        others = session.execute(select(PipelineRun).where(PipelineRun.run_date == day)).scalars()
        if any(
            r.status == RunStatus.SUCCESS or r.summary.get(ANNOUNCED) for r in others if r.run_id != run_id
        ):
            return False
    partners = ctx.partners
    with Session(engine_for(settings.database_url)) as session:
        statuses = health.assess(session, partners, day)
        session.rollback()  # a read-only look: the daily run records feed health itself
    moment = at.astimezone(JST).replace(tzinfo=None)
    complete = all(
        status in health.RECEIVED or moment >= dt.datetime.combine(day, partners[pid].due_by)
        for pid, status in statuses.items()
    )
    if complete:
        with session_scope(settings.database_url) as session:
            run = get_run(session, run_id)
            run.summary = {**run.summary, ANNOUNCED: True}
    return complete


def close_ingest(run_id: str) -> dict[str, Any]:
    """Close an ingestion pass and sign the audit checkpoint; returns the pass's counts per partner."""
    ctx = RunContext.from_environment()
    settings = ctx.settings
    with session_scope(settings.database_url) as session:
        run = get_run(session, run_id)
        run.status, run.finished_at = INGESTED, utcnow()
        loaded = {
            step.partition(":")[2]: result.get("rows_loaded", 0)
            for step, result in run.summary.items()
            if step.startswith("ingest:")
        }
    daily.checkpoint(settings)
    lineage_events.pipeline_event(ctx, run_id, "COMPLETE")
    return {"run_id": run_id, "rows_loaded": loaded}


@declares("import_consents", daily.IMPORT_CONSENTS)
def import_consents(day: str) -> dict[str, int]:
    """Import the consent files dated up to the day (importing a file twice changes nothing)."""
    settings = RunContext.from_environment().with_warehouse().settings
    with session_scope(settings.database_url) as session:
        keys = active_pseudonym_keys(session, settings.pseudonym_keys)
        imported = daily.import_consents(session, settings, keys, daily.parse_run_date(day))
    retention_run.settle_consent_forms(settings, daily.parse_run_date(day))
    daily.checkpoint(settings)
    return imported


@declares("retention", daily.RETENTION)
def expire(day: str, signal_days: int | None = None) -> dict[str, int]:
    """Delete what is past its retention period (settings.retention; `signal_days` may shorten one run)."""
    if signal_days is not None and signal_days < 1:
        raise InputError(f"the retention window must be at least one day, not {signal_days}")
    settings = RunContext.from_environment().with_warehouse().settings
    if signal_days is not None and signal_days < settings.retention.signals_days:
        settings = replace(settings, retention=replace(settings.retention, signals_days=signal_days))
    done = retention_run.apply(settings, daily.parse_run_date(day))
    daily.checkpoint(settings)
    return done


@declares("purge", daily.PURGE)
def purge_ended(day: str) -> dict[str, int]:
    """Purge every resident whose consents have all been withdrawn or expired by the day (audited)."""
    settings = RunContext.from_environment().with_warehouse().settings
    with session_scope(settings.database_url) as session:
        done = purge(session, ConsentBook.load(session), daily.parse_run_date(day), settings.actor)
        archive_purge.forget(session, settings, done.residents)
    daily.checkpoint(settings)
    return {"residents": len(done.residents), "signals": done.signals}


def rotate_key(purpose: str) -> dict[str, Any]:
    """Rotate the pseudonym or the vault key (see `mimamori keys rotate`); returns the keys and counts."""
    ctx = RunContext.from_environment().with_warehouse()
    result = key_rotation.rotate_key(ctx, purpose)
    daily.checkpoint(ctx.settings)
    return result


def run_steward_job(job_id: str) -> str:
    """Do the steward job the portal recorded and queued (a consent import, a quarantine release), recording
    its progress and end in the job's row exactly as the portal's own thread does; returns the status."""
    ctx = RunContext.from_environment().with_warehouse()
    today = dt.datetime.now(JST).date()
    try:
        return steward_jobs.run(ctx.settings, None, job_id, today)
    finally:
        daily.checkpoint(ctx.settings)


def steward_job_stopped(job_id: str, reason: str) -> None:
    """Mark a steward job failed if its DAG run ended without the work recording an end."""
    settings = RunContext.from_environment().settings
    with session_scope(settings.database_url) as session:
        steward_jobs.stopped(session, job_id, reason)


def municipality_codes(hub_config: str | None = None) -> list[str]:
    """The municipality codes of the hub file (the given path, else MIMAMORI_HUB_CONFIG)."""
    return hub.municipality_codes(process_environment(), hub_config)


def run_municipality(
    code: str, run_date: str, hub_config: str | None = None, dag_run_id: str | None = None
) -> dict[str, Any]:
    """Run one municipality of the hub's day in its own home with its own settings."""
    return hub.run_municipality(process_environment(), code, run_date, hub_config, dag_run_id)
