"""Reading a day's signals for the build: only the watched population, in chunks, text shared once.

The frame is the one the rules have always seen (SIGNAL_FIELDS, `str` text, datetime64 times, float
values); only the way it is read changed: rows stream in chunks, residents outside the population are
dropped chunk by chunk, each chunk's repeated text (pseudonyms, partner ids, event types) is kept once,
and times are parsed a chunk's column at a time instead of row by row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, String, select, type_coerce
from sqlalchemy.orm import Session

from warehouse.db import driver_times, fetch_chunks
from warehouse.load import SIGNAL_COLUMNS
from warehouse.models import Signal

SIGNAL_FIELDS = (*SIGNAL_COLUMNS, "delivery_pk")
TIMES = ("event_start", "event_end")
CHUNK_ROWS = 250_000


def _column(name: str) -> ColumnElement[Any]:
    # Times come back as the driver gives them (text on SQLite), to be parsed a column at a time.
    column = getattr(Signal, name)
    return type_coerce(column, String).label(name) if name in TIMES else column


def _chunk(rows: Sequence[Sequence[object]], residents: set[str], seen: dict[object, object]) -> pd.DataFrame:
    raw = pd.DataFrame.from_records(rows, columns=list(SIGNAL_FIELDS))
    keep = raw["resident"].isin(residents).to_numpy()
    # Each column is built anew, so nothing keeps the chunk's raw rows (and their text) alive.
    columns: dict[str, Any] = {}
    for name in SIGNAL_FIELDS:
        values = pd.Series(raw[name].to_numpy()[keep])
        if name in TIMES:
            columns[name] = driver_times(values)
        elif values.dtype == object:
            # one object per distinct text for the whole read
            codes = pd.Categorical(values)
            shared = [seen.setdefault(v, v) for v in codes.categories]
            columns[name] = pd.Series(pd.Categorical.from_codes(codes.codes, shared)).astype("str")
        else:
            columns[name] = values
    return pd.DataFrame(columns)


def read_signals(
    session: Session, residents: set[str], since: dt.datetime, until: dt.datetime, kind: str | None = None
) -> pd.DataFrame:
    """Signals of the residents whose event starts in [since, until), one row per signal (of one kind)."""
    query = select(*(_column(f) for f in SIGNAL_FIELDS)).where(
        Signal.event_start >= since, Signal.event_start < until
    )
    if kind is not None:
        query = query.where(Signal.kind == kind)
    seen: dict[object, object] = {}
    parts = [_chunk(rows, residents, seen) for rows in fetch_chunks(session, query, CHUNK_ROWS)]
    frame = pd.concat(parts, ignore_index=True) if parts else _chunk([], residents, seen)
    frame["value"] = pd.to_numeric(frame["value"])
    return frame
