"""The one lookup of a pipeline run by id."""

from __future__ import annotations

from sqlalchemy.orm import Session

from warehouse.errors import NotFoundError
from warehouse.models import PipelineRun


def get_run(session: Session, run_id: str) -> PipelineRun:
    """The run with this id, or NotFoundError."""
    run = session.get(PipelineRun, run_id)
    if run is None:
        raise NotFoundError(f"実行がありません / unknown run {run_id}")
    return run
