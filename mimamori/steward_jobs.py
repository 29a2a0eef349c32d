"""Long steward work started from the portal (a large consent import, a quarantine release), its progress
kept in `steward_jobs` so the page survives a reload.

One home for the work, `run`, called where the work runs: on a thread of the portal (the embedded default)
or by the `mimamori_steward_jobs` DAG through `mimamori.jobs.run_steward_job` (production: the portal
queues the DAG run through Airflow 3's REST API, `launch`). The job row carries what the work needs (the
token of the sealed form in the shared data home, or the delivery and the reason), never an identity.
An import commits a chunk at a time, taking the given lock for each chunk only, so the portal answers
between chunks.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from functools import partial
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from consent import forms, uploads
from consent.importer import ImportResult, Known, import_rows, parse_form
from identity.rotation import active_pseudonym_keys
from mimamori import airflow_api, stewardship
from mimamori.settings import Settings
from warehouse.db import engine_for, utcnow
from warehouse.errors import InputError, MimamoriError
from warehouse.job_models import StewardJob

DAG_ID = "mimamori_steward_jobs"
CHUNK = 2000
INLINE_ROWS = 2000  # a form up to this many rows is imported within the request
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
CONSENT_IMPORT, QUARANTINE_RELEASE = "consent_import", "release"
REFUSED_KEPT = 500  # refused rows listed in the job's summary (the count is always complete)
Lock = AbstractContextManager[object]


def start(session: Session, kind: str, total: int, actor: str, given: dict[str, Any]) -> StewardJob:
    """Record a job as queued with what its work needs (`given`, kept in the summary)."""
    job = StewardJob(
        job_id=secrets.token_urlsafe(18),
        kind=kind,
        status=QUEUED,
        total=total,
        done=0,
        started_by=actor,
        started_at=utcnow(),
        summary={"given": given},
    )
    session.add(job)
    session.flush()
    return job


def launch(settings: Settings, lock: Lock, session: Session, job: StewardJob, today: dt.date) -> None:
    """Start the recorded job where work runs: a DAG run in production, else a thread of this process.

    The job is committed first, so the work finds it; if Airflow cannot be reached the job is failed."""
    session.commit()
    if settings.airflow_api is None:
        run_in_process(partial(run, settings, lock, job.job_id, today))
        return
    try:
        dag_run = airflow_api.trigger(settings.airflow_api, DAG_ID, {"job_id": job.job_id})
    except airflow_api.AirflowUnavailable as problem:
        stopped(session, job.job_id, str(problem))
        return
    job.summary = {**job.summary, "dag_run_id": dag_run}


def stopped(session: Session, job_id: str, reason: str) -> None:
    """Mark a job failed with the reason unless it already ended (its run stopped without saying so)."""
    job = session.get(StewardJob, job_id)
    if job is not None and job.status in (QUEUED, RUNNING):
        job.status, job.finished_at = FAILED, utcnow()
        job.summary = {**job.summary, "error": reason[:200]}


def summary(result: ImportResult) -> dict[str, object]:
    """What an import did, for the job record (consent ids and reasons only)."""
    return {
        "added": result.added,
        "unchanged": result.unchanged,
        "refused_count": len(result.refused),
        "refused": [list(r) for r in result.refused[:REFUSED_KEPT]],
    }


def run(settings: Settings, lock: Lock | None, job_id: str, today: dt.date) -> str:
    """Do a recorded job, recording its progress and how it ended; returns the final status."""
    lock = lock or nullcontext()
    session = sessionmaker(engine_for(settings.database_url), expire_on_commit=False)()
    outcome: dict[str, Any] = {}
    try:
        with lock:
            job = _job(session, job_id)
            if job.status == DONE:
                return DONE  # a repeated DAG run finds it finished
            job.status, job.finished_at = RUNNING, None
            session.commit()
        WORK[job.kind](settings, lock, session, job, today, outcome)
        with lock:
            job.status, job.finished_at, job.done = DONE, utcnow(), job.total
            job.summary = {**job.summary, **outcome}
            session.commit()
        return DONE
    except Exception as problem:  # the record must say the work stopped, whatever stopped it
        session.rollback()
        reason = str(problem) if isinstance(problem, MimamoriError) else type(problem).__name__
        with lock:
            failed = session.get(StewardJob, job_id)
            if failed is not None:
                failed.status, failed.finished_at = FAILED, utcnow()
                failed.summary = {**failed.summary, **outcome, "error": reason}
                session.commit()
        raise
    finally:
        session.close()


def _job(session: Session, job_id: str) -> StewardJob:
    job = session.get(StewardJob, job_id)
    if job is None:
        raise InputError(f"処理 {job_id} の記録がありません / no steward job {job_id}")
    return job


def _import_form(
    settings: Settings, lock: Lock, session: Session, job: StewardJob, today: dt.date, outcome: dict[str, Any]
) -> None:
    """Import the held form chunk by chunk, committing each chunk and the progress; the form is then kept."""
    token = str(job.summary["given"]["form"])
    data, name = uploads.peek(settings, token)
    rows = parse_form(data, name)
    result = ImportResult()
    with lock:
        keys = active_pseudonym_keys(session, settings.pseudonym_keys)
        known = Known.load(session)
    for start_at in range(0, len(rows), CHUNK):
        with lock:
            import_rows(
                rows[start_at : start_at + CHUNK],
                session,
                keys,
                settings.vault_keys,
                job.started_by,
                name,
                first_line=start_at + 2,
                known=known,
                result=result,
            )
            outcome.update(summary(result))
            job.done = min(start_at + CHUNK, len(rows))
            job.summary = {**job.summary, **outcome}
            session.commit()
    with lock:
        forms.keep(session, settings.path("consents"), settings.vault_keys, name, data, today)
        session.commit()
    uploads.drop(settings, token)


def _release(
    settings: Settings, lock: Lock, session: Session, job: StewardJob, today: dt.date, outcome: dict[str, Any]
) -> None:
    """Release a held delivery for the next run, with the steward's reason (audited)."""
    given = job.summary["given"]
    with lock:
        story = stewardship.delivery_story(session, int(given["delivery"]))
        stewardship.release(session, settings, story.delivery, job.started_by, str(given["why"]))
        session.commit()


Work = Callable[[Settings, Lock, Session, StewardJob, dt.date, dict[str, Any]], None]
WORK: dict[str, Work] = {CONSENT_IMPORT: _import_form, QUARANTINE_RELEASE: _release}


def run_in_process(work: Callable[[], object]) -> threading.Thread:
    """Start the work on a daemon thread of this process (the embedded default)."""
    thread = threading.Thread(target=work, name="steward-job", daemon=True)
    thread.start()
    return thread
