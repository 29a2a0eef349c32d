"""Retention: old signals and expired records of provision are deleted, and each deletion is audited."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from warehouse import audit
from warehouse.models import ProvisionAmendment, ProvisionRecord, ReadingDay, Signal


def expire_signals(session: Session, run_date: dt.date, actor: str, days: int) -> int:
    """Delete signals that started more than `days` (settings.retention.signals_days) before the run date."""
    cutoff = dt.datetime.combine(run_date - dt.timedelta(days=days), dt.time())
    old = session.execute(
        select(func.count()).select_from(Signal).where(Signal.event_start < cutoff)
    ).scalar_one()
    if old:
        session.execute(delete(Signal).where(Signal.event_start < cutoff))
        session.execute(delete(ReadingDay).where(ReadingDay.day < cutoff.date()))  # their summaries too
        audit.append(session, actor, "retention", "signals", before=cutoff.isoformat(), deleted=int(old))
    return int(old)


def expire_provision_records(session: Session, run_date: dt.date, actor: str) -> int:
    """Delete records of provision and their amendments past their keep-until date; returns how many."""
    old = 0
    for model in (ProvisionAmendment, ProvisionRecord):
        count = session.execute(
            select(func.count()).select_from(model).where(model.keep_until < run_date)
        ).scalar_one()
        if count:
            session.execute(delete(model).where(model.keep_until < run_date))
        old += int(count)
    if old:
        audit.append(
            session, actor, "retention", "provision_records", before=run_date.isoformat(), deleted=old
        )
    return old
