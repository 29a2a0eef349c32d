"""Idempotent loaders: everything written is keyed by its delivery, so a rerun replaces, never duplicates."""

from __future__ import annotations

from collections import Counter
from typing import cast

import pandas as pd
from sqlalchemy import Table, delete, insert
from sqlalchemy.orm import Session

from warehouse.models import DeliveryCount, Signal

# What a canonical row says about an event, and the whole pseudonymous frame that may be loaded.
EVENT_COLUMNS = ("kind", "event_type", "event_start", "event_end", "value", "unit")
SIGNAL_COLUMNS = ("resident", "partner_id", "sector", *EVENT_COLUMNS, "consent_id")


# Rows per INSERT batch: large enough to keep executemany fast, small enough to keep memory flat.
BATCH_ROWS = 50_000
SIGNALS = cast(Table, Signal.__table__)


def _records(delivery_pk: int, frame: pd.DataFrame) -> list[dict[str, object]]:
    """The rows as plain values for executemany: datetimes as Python datetimes, missing as None."""
    columns: dict[str, list[object]] = {}
    for name in SIGNAL_COLUMNS:
        column = frame[name]
        if name in ("event_start", "event_end"):
            column = pd.Series(column.dt.to_pydatetime(), index=frame.index, dtype=object)
        columns[name] = column.astype(object).where(column.notna(), None).tolist()
    return [
        {"delivery_pk": delivery_pk, **dict(zip(SIGNAL_COLUMNS, values, strict=True))}
        for values in zip(*columns.values(), strict=True)
    ]


def load_signals(session: Session, delivery_pk: int, frame: pd.DataFrame) -> int:
    """Replace the signals of one delivery with these pseudonymous rows."""
    session.execute(delete(Signal).where(Signal.delivery_pk == delivery_pk))
    return append_signals(session, delivery_pk, frame)


def append_signals(session: Session, delivery_pk: int, frame: pd.DataFrame) -> int:
    """Add pseudonymous rows to a delivery's signals, in batches through the Core (no ORM objects)."""
    connection = session.connection()
    for start in range(0, len(frame), BATCH_ROWS):
        connection.execute(insert(SIGNALS), _records(delivery_pk, frame.iloc[start : start + BATCH_ROWS]))
    return len(frame)


def record_counts(session: Session, delivery_pk: int, stage: str, counts: Counter[str]) -> None:
    """Replace one stage's per-reason row counts of a delivery."""
    session.execute(
        delete(DeliveryCount).where(DeliveryCount.delivery_pk == delivery_pk, DeliveryCount.stage == stage)
    )
    for reason, count in sorted(counts.items()):
        session.add(DeliveryCount(delivery_pk=delivery_pk, stage=stage, reason=reason, count=int(count)))
