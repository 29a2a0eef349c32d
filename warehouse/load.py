"""Idempotent loaders: everything written is keyed by its delivery, so a rerun replaces, never duplicates."""

from __future__ import annotations

from collections import Counter
from typing import cast

import numpy as np
import pandas as pd
from sqlalchemy import Table, delete, insert
from sqlalchemy.orm import Session

from warehouse import reading_days
from warehouse.models import DeliveryCount, Signal

# What a canonical row says about an event, and the whole pseudonymous frame that may be loaded.
EVENT_COLUMNS = ("kind", "event_type", "event_start", "event_end", "value", "unit")
SIGNAL_COLUMNS = ("resident", "partner_id", "sector", *EVENT_COLUMNS, "consent_id")


# Rows per INSERT batch: large enough to keep executemany fast, small enough to keep memory flat.
BATCH_ROWS = 50_000
SIGNALS = cast(Table, Signal.__table__)
SQLITE_INSERT = (
    f"INSERT INTO signals (delivery_pk, {', '.join(SIGNAL_COLUMNS)}) "
    f"VALUES ({', '.join('?' * (len(SIGNAL_COLUMNS) + 1))})"
)


def _column(frame: pd.DataFrame, name: str, sqlite: bool) -> list[object]:
    column = frame[name]
    if name in ("event_start", "event_end"):
        if sqlite:  # SQLAlchemy's own SQLite storage format, made for the whole column at once
            stamps = np.datetime_as_string(column.to_numpy(dtype="datetime64[us]"), unit="us")
            column = pd.Series(np.char.replace(stamps, "T", " "), index=frame.index).where(column.notna())
        else:
            column = pd.Series(column.dt.to_pydatetime(), index=frame.index, dtype=object)
    values: list[object] = column.astype(object).where(column.notna(), None).tolist()
    return values


def _insert(session: Session, delivery_pk: int, frame: pd.DataFrame) -> None:
    """Insert one batch: straight through the SQLite driver (half the time), or the Core elsewhere."""
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    columns = [_column(frame, name, sqlite) for name in SIGNAL_COLUMNS]
    pks = [delivery_pk] * len(frame)
    if sqlite:
        connection.exec_driver_sql(SQLITE_INSERT, list(zip(pks, *columns, strict=True)))
    else:
        names = ("delivery_pk", *SIGNAL_COLUMNS)
        records = [dict(zip(names, values, strict=True)) for values in zip(pks, *columns, strict=True)]
        connection.execute(insert(SIGNALS), records)


def load_signals(session: Session, delivery_pk: int, frame: pd.DataFrame) -> int:
    """Replace the signals of one delivery with these pseudonymous rows, and its reading days with theirs."""
    session.execute(delete(Signal).where(Signal.delivery_pk == delivery_pk))
    reading_days.forget(session, delivery_pk)
    _append(session, delivery_pk, frame)
    reading_days.remember(session, delivery_pk, reading_days.summarise(frame, delivery_pk))
    return len(frame)


def append_signals(session: Session, delivery_pk: int, frame: pd.DataFrame) -> int:
    """Add pseudonymous rows to a delivery's signals; the next build summarises its readings anew."""
    _append(session, delivery_pk, frame)
    reading_days.forget(session, delivery_pk)
    return len(frame)


def _append(session: Session, delivery_pk: int, frame: pd.DataFrame) -> None:
    """Insert in batches through the Core (no ORM objects)."""
    for start in range(0, len(frame), BATCH_ROWS):
        _insert(session, delivery_pk, frame.iloc[start : start + BATCH_ROWS])


def record_counts(session: Session, delivery_pk: int, stage: str, counts: Counter[str]) -> None:
    """Replace one stage's per-reason row counts of a delivery."""
    session.execute(
        delete(DeliveryCount).where(DeliveryCount.delivery_pk == delivery_pk, DeliveryCount.stage == stage)
    )
    for reason, count in sorted(counts.items()):
        session.add(DeliveryCount(delivery_pk=delivery_pk, stage=stage, reason=reason, count=int(count)))
