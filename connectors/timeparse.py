"""Timestamps of the contract: ISO 8601, with or without offset; without one they are JST."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from warehouse.vocabulary import JST

# Times a partner may plausibly send; outside them a value is a mistake or an attack, never a date.
EARLIEST = dt.datetime(1900, 1, 1)
LATEST = dt.datetime(2200, 1, 1)


def to_jst_naive(value: str) -> dt.datetime:
    """Parse an ISO timestamp or date to naive JST wall time; raises ValueError when malformed or absurd."""
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(JST).replace(tzinfo=None)
    except OverflowError:
        raise ValueError("timestamp out of range") from None
    if not EARLIEST <= parsed < LATEST:
        raise ValueError("timestamp out of range")
    return parsed


def _safe(value: str) -> dt.datetime | None:
    try:
        return to_jst_naive(value) if value else None
    except ValueError:
        return None


def parse_series(values: pd.Series) -> pd.Series:
    """Parse a column of timestamps to naive JST datetimes (NaT where malformed); each distinct value once."""
    strings = values.fillna("").astype(str)
    mapping = {v: _safe(v) for v in strings.unique()}
    return pd.to_datetime(strings.map(mapping), errors="coerce")
