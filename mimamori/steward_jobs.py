"""Long steward work run in process (the embedded default), its progress kept in `steward_jobs`.

The work commits a chunk at a time, taking the portal's write lock for each chunk only, so the progress
page (and every other request) is answered between chunks. In production the same chunks would run as an
Airflow DAG run started through Airflow 3's REST API; that trigger is not built here.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy.orm import Session, sessionmaker

from consent import forms
from consent.importer import ImportResult, Known, import_rows
from identity.rotation import active_pseudonym_keys
from mimamori.settings import Settings
from warehouse.db import engine_for, utcnow
from warehouse.job_models import StewardJob

CHUNK = 2000
INLINE_ROWS = 2000  # a form up to this many rows is imported within the request
RUNNING, DONE, FAILED = "running", "done", "failed"
REFUSED_KEPT = 500  # refused rows listed in the job's summary (the count is always complete)


def start(session: Session, kind: str, total: int, actor: str) -> StewardJob:
    """Record a job as running."""
    job = StewardJob(
        job_id=secrets.token_urlsafe(18),
        kind=kind,
        status=RUNNING,
        total=total,
        done=0,
        started_by=actor,
        started_at=utcnow(),
        summary={},
    )
    session.add(job)
    session.flush()
    return job


def summary(result: ImportResult) -> dict[str, object]:
    """What an import did, for the job record (consent ids and reasons only)."""
    return {
        "added": result.added,
        "unchanged": result.unchanged,
        "refused_count": len(result.refused),
        "refused": [list(r) for r in result.refused[:REFUSED_KEPT]],
    }


def import_form(
    settings: Settings,
    lock: AbstractContextManager[object],
    job_id: str,
    rows: list[dict[str, str]],
    name: str,
    data: bytes,
    actor: str,
    today: dt.date,
) -> None:
    """Import a form chunk by chunk, committing each chunk and the job's progress; the form is then kept."""
    session = sessionmaker(engine_for(settings.database_url), expire_on_commit=False)()
    result = ImportResult()
    try:
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
                    actor,
                    name,
                    first_line=start_at + 2,
                    known=known,
                    result=result,
                )
                job = session.get(StewardJob, job_id)
                assert job is not None
                job.done = min(start_at + CHUNK, len(rows))
                job.summary = summary(result)
                session.commit()
        with lock:
            forms.keep(session, settings.path("consents"), settings.vault_keys, name, data, today)
            job = session.get(StewardJob, job_id)
            assert job is not None
            job.status, job.finished_at, job.summary = DONE, utcnow(), summary(result)
            session.commit()
    except Exception as problem:  # the record must say the work stopped, whatever stopped it
        session.rollback()
        with lock:
            job = session.get(StewardJob, job_id)
            if job is not None:
                job.status, job.finished_at = FAILED, utcnow()
                job.summary = {**summary(result), "error": type(problem).__name__}
                session.commit()
        raise
    finally:
        session.close()


def run_in_process(work: Callable[[], None]) -> threading.Thread:
    """Start the work on a daemon thread of this process (the embedded default)."""
    thread = threading.Thread(target=work, name="steward-job", daemon=True)
    thread.start()
    return thread
