"""Idempotent loaders: everything written is keyed by its delivery, so a rerun replaces, never duplicates."""

from __future__ import annotations

from collections import Counter

import pandas as pd
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from warehouse.models import DeliveryCount, Signal

# What a canonical row says about an event, and the whole pseudonymous frame that may be loaded.
EVENT_COLUMNS = ("kind", "event_type", "event_start", "event_end", "value", "unit")
SIGNAL_COLUMNS = ("resident", "partner_id", "sector", *EVENT_COLUMNS, "consent_id")


def _none(value: object) -> object:
    return None if pd.isna(value) else value


def load_signals(session: Session, delivery_pk: int, frame: pd.DataFrame) -> int:
    """Replace the signals of one delivery with these pseudonymous rows."""
    session.execute(delete(Signal).where(Signal.delivery_pk == delivery_pk))
    return append_signals(session, delivery_pk, frame)


def append_signals(session: Session, delivery_pk: int, frame: pd.DataFrame) -> int:
    """Add pseudonymous rows to a delivery's signals (rows released after a link review)."""
    if frame.empty:
        return 0
    records = [
        {
            "delivery_pk": delivery_pk,
            "resident": r.resident,
            "partner_id": r.partner_id,
            "sector": r.sector,
            "kind": r.kind,
            "event_type": r.event_type,
            "event_start": r.event_start.to_pydatetime(),
            "event_end": None if pd.isna(r.event_end) else r.event_end.to_pydatetime(),
            "value": _none(r.value),
            "unit": _none(r.unit),
            "consent_id": r.consent_id,
        }
        for r in frame.itertuples(index=False)
    ]
    session.execute(insert(Signal), records)
    return len(records)


def record_counts(session: Session, delivery_pk: int, stage: str, counts: Counter[str]) -> None:
    """Replace one stage's per-reason row counts of a delivery."""
    session.execute(
        delete(DeliveryCount).where(DeliveryCount.delivery_pk == delivery_pk, DeliveryCount.stage == stage)
    )
    for reason, count in sorted(counts.items()):
        session.add(DeliveryCount(delivery_pk=delivery_pk, stage=stage, reason=reason, count=int(count)))
