"""An ingestion pass prepares the day (consents, register, purge, retention) only once per date."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from mimamori import jobs
from mimamori.settings import load_settings
from warehouse.db import session_scope
from warehouse.models import AuditRecord, PipelineRun

pytestmark = pytest.mark.integration


def audit_records() -> int:
    with session_scope(load_settings().database_url) as session:
        return int(session.execute(select(func.count()).select_from(AuditRecord)).scalar_one())


def test_the_second_pass_of_a_day_skips_the_preparation_the_first_did(tiny: Path):
    first = jobs.open_ingest("2026-11-02")
    prepared = jobs.prepare_once(first)
    assert prepared["consents"]["added"] == 2 and prepared["register"]["residents"] == 2
    jobs.close_ingest(first)
    before = audit_records()

    second = jobs.open_ingest("2026-11-02")
    assert jobs.prepare_once(second) == {"skipped": "prepared", "by": first}
    assert audit_records() == before  # no purge, register or retention work was repeated
    jobs.close_ingest(second)

    next_day = jobs.open_ingest("2026-11-03")  # a new date prepares again
    assert "skipped" not in jobs.prepare_once(next_day)
    with session_scope(load_settings().database_url) as session:
        kept = session.get(PipelineRun, second)
        assert kept is not None and kept.summary["prepare"]["by"] == first


def test_a_pass_that_failed_after_preparing_does_not_count(tiny: Path):
    failed = jobs.open_ingest("2026-11-02")
    jobs.prepare_once(failed)
    with session_scope(load_settings().database_url) as session:
        run = session.get(PipelineRun, failed)
        assert run is not None
        run.status = "failed"
    again = jobs.open_ingest("2026-11-02")
    assert "skipped" not in jobs.prepare_once(again)
