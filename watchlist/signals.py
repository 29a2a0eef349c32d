"""Reading a day's signals for the build: only the watched population, in chunks, text shared once.

The frame is the one the rules have always seen (SIGNAL_FIELDS, `str` text, datetime64 times, float
values); only the way it is read changed: rows stream in chunks, residents outside the population are
dropped chunk by chunk, each chunk's repeated text (pseudonyms, partner ids, event types) is kept once,
and times are parsed a chunk's column at a time instead of row by row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, String, select, type_coerce
from sqlalchemy.orm import Session

from warehouse.load import SIGNAL_COLUMNS
from warehouse.models import Signal

SIGNAL_FIELDS = (*SIGNAL_COLUMNS, "delivery_pk")
TIMES = ("event_start", "event_end")
CHUNK_ROWS = 250_000


def _column(name: str) -> ColumnElement[Any]:
    # Times come back as the driver gives them (text on SQLite), to be parsed a column at a time.
    column = getattr(Signal, name)
    return type_coerce(column, String).label(name) if name in TIMES else column


def _chunk(rows: list[tuple[object, ...]], residents: set[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=list(SIGNAL_FIELDS))
    frame = frame.loc[frame["resident"].isin(residents)]
    for name in SIGNAL_FIELDS:
        if name in TIMES:
            frame[name] = pd.to_datetime(frame[name], format="ISO8601").astype("datetime64[us]")
        elif frame[name].dtype == object:
            frame[name] = frame[name].astype("category").astype("str")
    return frame


def read_signals(
    session: Session, residents: set[str], since: dt.datetime, until: dt.datetime
) -> pd.DataFrame:
    """Signals of the residents whose event starts in [since, until), one row per signal."""
    query = (
        select(*(_column(f) for f in SIGNAL_FIELDS))
        .where(Signal.event_start >= since, Signal.event_start < until)
        .execution_options(yield_per=CHUNK_ROWS)
    )
    parts = [
        _chunk([tuple(row) for row in rows], residents)
        for rows in session.execute(query).partitions(CHUNK_ROWS)
    ]
    frame = pd.concat(parts, ignore_index=True) if parts else _chunk([], residents)
    frame["value"] = pd.to_numeric(frame["value"])
    return frame
