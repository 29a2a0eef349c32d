"""Turn a partner's string frame into canonical rows, with a row-level reason for every rejected row."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from connectors.delivery import Manifest
from connectors.registry import Partner
from connectors.sectors import IDENTIFIER_COLUMNS, SECTORS, UNITS, UTILITIES, UTILITY_BILLING, UTILITY_READING
from connectors.timeparse import parse_series
from warehouse.errors import InputError
from warehouse.load import EVENT_COLUMNS

CANONICAL = ("row_no", *IDENTIFIER_COLUMNS, *EVENT_COLUMNS)
# Highest plausible consumption per hour by unit; above this a reading is absurd, not a heater.
MAX_PER_HOUR = {"kWh": 20.0, "m3": 3.0}
MIN_READING = dt.timedelta(minutes=30)
# A cell a spreadsheet would run as a formula (=HYPERLINK(...), +cmd, @SUM, -A1): never data, often an attack.
FORMULA = r"^\s*(?:[=@]|\+[^\d\s(]|-[^\d.\s])"
# Over a column's values joined and framed by NUL, these find every value that needs a closer look (a NUL
# inside a value can only add a needless look), so the per-value work runs only on columns that need it.
# Each starts with a literal NUL (or is one character class), which the regex engine scans for quickly.
_FORMULA_ANYWHERE = re.compile(FORMULA.replace("^", "\x00", 1))
_PADDED_ANYWHERE = re.compile(r"\x00\s|\s\x00")
MAX_READING = dt.timedelta(days=1)


@dataclass
class Rejections:
    """Rows set aside by row checks: the reason for each row number, and counts per reason."""

    rows: dict[int, str] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)


class RowHashes:
    """Hashes of the rows seen so far in one delivery, so an exact duplicate is found across chunks."""

    def __init__(self) -> None:
        self._seen = np.empty(0, dtype=np.uint64)

    def repeated(self, frame: pd.DataFrame) -> pd.Series:
        """Whether each row repeats an earlier row of this chunk or an earlier one (and remember them)."""
        hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
        repeated = pd.Series(hashes).duplicated().to_numpy().copy()
        if len(self._seen):  # kept sorted: a lookup per row, not a sort of everything seen per chunk
            at = np.minimum(np.searchsorted(self._seen, hashes), len(self._seen) - 1)
            repeated |= self._seen[at] == hashes
        self._seen = np.sort(np.concatenate([self._seen, hashes[~repeated]]), kind="stable")
        return pd.Series(repeated, index=frame.index)


def _any_value(pattern: re.Pattern[str], column: pd.Series) -> bool:
    return pattern.search("\x00" + "\x00".join(column.tolist()) + "\x00") is not None


def _stripped(column: pd.Series) -> pd.Series:
    return column.str.strip() if _any_value(_PADDED_ANYWHERE, column) else column


def _formula(column: pd.Series) -> pd.Series:
    if not _any_value(_FORMULA_ANYWHERE, column):
        return pd.Series(False, index=column.index)
    return column.str.match(FORMULA, na=False)


@dataclass
class Canonical:
    """Canonical rows that passed row checks, the rejected rows' reasons and the dropped columns."""

    rows: pd.DataFrame
    rejected: Rejections
    dropped_columns: list[str]
    source: pd.DataFrame


def _reject(frame: pd.DataFrame, mask: pd.Series, reason: str, sink: Rejections) -> pd.DataFrame:
    hit = int(mask.sum())
    if hit:
        sink.counts[reason] += hit
        sink.rows.update(dict.fromkeys(frame.loc[mask, "row_no"].tolist(), reason))
    return frame.loc[~mask]


def canonicalise(
    frame: pd.DataFrame,
    partner: Partner,
    manifest: Manifest,
    first_row: int = 1,
    seen: RowHashes | None = None,
) -> Canonical:
    """Check columns, drop free text, map codes, parse times and values; bad rows are counted by reason.

    A delivery read in chunks passes each chunk's first row number and one RowHashes for all its chunks.
    """
    sector = SECTORS[partner.sector]
    missing = [c for c in ("partner_customer_id", "address", *sector.required) if c not in frame.columns]
    if "name_kana" not in frame.columns and "name_kanji" not in frame.columns:
        missing.append("name_kana|name_kanji")
    if missing:
        raise InputError(f"required columns missing: {', '.join(missing)}")
    known = set(IDENTIFIER_COLUMNS) | set(sector.columns)
    dropped = [c for c in frame.columns if c not in known]
    frame = frame.drop(columns=dropped).copy()
    for column in known - set(frame.columns):
        frame[column] = ""
    frame = frame.fillna("").astype(str).apply(_stripped)
    frame.insert(0, "row_no", np.arange(first_row, first_row + len(frame)))
    counts = Rejections()
    source = frame
    repeated = (seen or RowHashes()).repeated(frame.drop(columns="row_no"))
    frame = _reject(frame, repeated, "duplicate_row", counts)
    no_name = (frame["name_kana"] == "") & (frame["name_kanji"] == "")
    missing_id = (frame["partner_customer_id"] == "") | (frame["address"] == "") | no_name
    frame = _reject(frame, missing_id, "missing_identifier", counts)
    text = frame.drop(columns="row_no")
    formula = text.apply(_formula).any(axis=1)
    frame = _reject(frame, formula, "formula_like_cell", counts)
    if partner.sector == "utility":
        out = _utility(frame, partner, manifest, counts)
    else:
        out = _events(frame, partner, sector.time_column, counts)
    horizon = pd.Timestamp(manifest.created_at or manifest.period_end)
    out = _reject(out, out["event_start"] > horizon, "future_timestamp", counts)
    return Canonical(out.loc[:, list(CANONICAL)].reset_index(drop=True), counts, dropped, source)


def _events(frame: pd.DataFrame, partner: Partner, time_column: str, counts: Rejections) -> pd.DataFrame:
    frame = frame.assign(event_type=frame["event_type"].map(partner.canonical_code))
    frame = _reject(frame, frame["event_type"].isna(), "unknown_code", counts)
    frame = frame.assign(event_start=parse_series(frame[time_column]))
    frame = _reject(frame, frame["event_start"].isna(), "bad_timestamp", counts)
    return frame.assign(kind="event", event_end=pd.NaT, value=np.nan, unit=None)


def _utility(frame: pd.DataFrame, partner: Partner, manifest: Manifest, counts: Rejections) -> pd.DataFrame:
    frame = _reject(frame, ~frame["utility"].isin(UTILITIES), "unknown_utility", counts)
    frame = _reject(
        frame, ~frame["record_type"].isin({UTILITY_READING, UTILITY_BILLING}), "unknown_record_type", counts
    )
    readings = frame.loc[frame["record_type"] == UTILITY_READING]
    billing = frame.loc[frame["record_type"] == UTILITY_BILLING]
    billing = _events(billing, partner, "event_date", counts)
    start, end = parse_series(readings["period_start"]), parse_series(readings["period_end"])
    readings = readings.assign(event_start=start, event_end=end)
    readings = _reject(readings, start.isna() | end.isna(), "bad_timestamp", counts)
    span = readings["event_end"] - readings["event_start"]
    readings = _reject(readings, (span < MIN_READING) | (span > MAX_READING), "bad_reading_period", counts)
    outside = (readings["event_start"] < pd.Timestamp(manifest.period_start)) | (
        readings["event_end"] > pd.Timestamp(manifest.period_end)
    )
    readings = _reject(readings, outside, "outside_period", counts)
    value = pd.to_numeric(readings["consumption"], errors="coerce")
    readings = readings.assign(value=value)
    readings = _reject(readings, readings["value"].isna(), "bad_consumption", counts)
    readings = _reject(readings, readings["value"] < 0, "negative_consumption", counts)
    expected_unit = readings["utility"].map(UNITS)
    readings = _reject(readings, readings["unit"] != expected_unit, "unit_mismatch", counts)
    hours = (readings["event_end"] - readings["event_start"]).dt.total_seconds() / 3600
    limit = readings["unit"].map(MAX_PER_HOUR) * hours
    readings = _reject(readings, readings["value"] > limit, "absurd_consumption", counts)
    readings = readings.assign(kind="reading", event_type=readings["utility"])
    return pd.concat([readings, billing], ignore_index=True)
