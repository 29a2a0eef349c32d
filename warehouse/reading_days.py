"""Meter readings summarised per resident and day, so a morning reads days, not half-hourly rows.

Two weeks of half-hourly electricity for 100,000 watched residents are 67 million signal rows; the rules
need, per resident and day, only the 48 half-hour values and the day's total. So a delivery's readings
are summarised when it is loaded (`remember`, from warehouse/load.py), into `reading_days` rows keyed
like the signals they came from (delivery, resident, partner, utility, consent, day), and the delivery
is marked in `summarised_deliveries`. Rows added to a delivery later (released from a link review) or a
warehouse upgraded from before these tables leave deliveries unmarked; the build summarises those from
their signals first (`summarise_pending`). A delivery reloaded, purged or expired takes its day rows
with it (warehouse/load.py, consent/purge.py, warehouse/retention.py).

`days_frame` reads a window of day rows back and `slot_matrix` lays them out as one row of half-hours per
resident (NaN where no reading came), which the rhythm rule evaluates for all residents at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Select, String, delete, insert, select, type_coerce
from sqlalchemy.orm import Session

from warehouse.db import driver_times, fetch_chunks, utcnow
from warehouse.models import Delivery, ReadingDay, Signal, SummarisedDelivery

SLOTS = 48  # half-hours in a day
VALUE = np.dtype("<f8")  # as the signals hold them: the rules see the same numbers either way
HALF_HOUR = pd.Timedelta(minutes=30)
MINUTE = pd.Timedelta(minutes=1)
KEYS = ("delivery_pk", "resident", "partner_id", "sector", "utility", "consent_id", "day")
SLOT_COLUMNS = tuple(f"s{k:02d}" for k in range(SLOTS))
CHUNK_ROWS = 200_000
SOURCE = ("resident", "partner_id", "sector", "event_type", "consent_id", "event_start", "event_end", "value")


def summarise(frame: pd.DataFrame, delivery_pk: int | None = None) -> pd.DataFrame:
    """Day rows (KEYS, total, readings, first/last minute, 48 slot columns) of a frame's readings.

    A half-hour slot takes the first reading that starts in it and lasts 30 minutes; longer readings
    (a daily water meter) count only in the total. `delivery_pk` stands in when the frame has no column.
    """
    r = frame.loc[frame["kind"] == "reading"] if "kind" in frame else frame
    if r.empty:  # an empty frame's columns still tell what a day row holds
        return pd.DataFrame(
            columns=[*KEYS, "total", "readings", "first_minute", "last_minute", *SLOT_COLUMNS]
        )
    start = r["event_start"].astype("datetime64[us]")
    end = r["event_end"].astype("datetime64[us]").fillna(start)
    day = start.dt.normalize()
    keys = pd.DataFrame(
        {
            "delivery_pk": r["delivery_pk"].to_numpy() if delivery_pk is None else delivery_pk,
            "resident": r["resident"].to_numpy(),
            "partner_id": r["partner_id"].to_numpy(),
            "sector": r["sector"].to_numpy(),
            "utility": r["event_type"].to_numpy(),
            "consent_id": r["consent_id"].to_numpy(),
            "day": day.to_numpy(),
        }
    )
    group = keys.groupby(list(KEYS), sort=False, dropna=False).ngroup().to_numpy()
    values = pd.to_numeric(r["value"]).to_numpy(dtype="float64")
    facts = pd.DataFrame(
        {
            "group": group,
            "total": values,
            "readings": 1,
            "first_minute": ((start - day) // MINUTE).to_numpy(),
            "last_minute": ((end - day) // MINUTE).to_numpy(),
        }
    ).groupby("group", sort=True)
    _, first_rows = np.unique(group, return_index=True)
    out = keys.iloc[first_rows].reset_index(drop=True)
    out["total"] = facts["total"].sum().to_numpy()
    out["readings"] = facts["readings"].sum().to_numpy()
    out["first_minute"] = facts["first_minute"].min().to_numpy()
    out["last_minute"] = facts["last_minute"].max().to_numpy()
    slots = np.full((len(out), SLOTS), np.nan, dtype=VALUE)
    half = ((end - start) == HALF_HOUR).to_numpy()
    cell = group[half] * SLOTS + ((start - day) // HALF_HOUR).to_numpy()[half]
    cell, first = np.unique(cell, return_index=True)  # the first reading of each slot
    slots.reshape(-1)[cell] = values[half][first]
    return pd.concat([out, pd.DataFrame(slots, columns=list(SLOT_COLUMNS))], axis=1)


def merge(parts: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Join partial day rows of the same key: totals add up, a slot keeps its first value."""
    listed = list(parts)
    if not listed:
        return summarise(pd.DataFrame(columns=list(SOURCE)))
    whole = pd.concat(listed, ignore_index=True)
    if not whole.duplicated(list(KEYS)).any():
        return whole
    grouped = whole.groupby(list(KEYS), sort=False, dropna=False)
    how: dict[str, Any] = {"total": "sum", "readings": "sum", "first_minute": "min", "last_minute": "max"}
    return grouped.agg({**how, **dict.fromkeys(SLOT_COLUMNS, "first")}).reset_index()


TEXT = frozenset({"resident", "partner_id", "sector", "event_type", "consent_id"})


def _stream(
    session: Session, query: Select[Any], fields: list[str], residents: set[str] | None = None
) -> Iterator[pd.DataFrame]:
    """A query's rows in frames of CHUNK_ROWS (see fetch_chunks), each text kept once a frame."""
    wanted = None if residents is None else pd.Index(list(residents), dtype=object)
    for rows in fetch_chunks(session, query, CHUNK_ROWS):
        table = np.empty((len(rows), len(fields)), dtype=object)
        table[:] = rows  # one C loop over the driver's tuples, then a column is a slice
        columns = {name: table[:, i] for i, name in enumerate(fields)}
        if wanted is not None:
            keep = wanted.get_indexer(columns["resident"]) >= 0
            columns = {name: values[keep] for name, values in columns.items()}
        frame = {}
        for name, values in columns.items():
            if name in TEXT:  # one object per distinct text, not one per row
                codes, distinct = pd.factorize(values)
                values = np.asarray(distinct, dtype=object)[codes]
            frame[name] = pd.Series(values, dtype=object)
        yield pd.DataFrame(frame, columns=fields)


def _delivery_readings(session: Session, delivery_pk: int) -> Iterable[pd.DataFrame]:
    columns = [
        type_coerce(getattr(Signal, n), String).label(n) if n.startswith("event_") and n != "event_type"
        else getattr(Signal, n)
        for n in SOURCE
    ]  # fmt: skip
    query = select(*columns).where(Signal.delivery_pk == delivery_pk, Signal.kind == "reading")
    for frame in _stream(session, query, list(SOURCE)):
        frame["event_start"] = driver_times(frame["event_start"])
        frame["event_end"] = driver_times(frame["event_end"])
        frame["value"] = pd.to_numeric(frame["value"])
        yield frame


def blobs(days: pd.DataFrame) -> list[bytes | None]:
    """Each day row's slot columns as stored in `slots` (None for a day without half-hourly readings)."""
    slots = days[list(SLOT_COLUMNS)].to_numpy(dtype=VALUE)
    has = ~np.isnan(slots).all(axis=1)
    return [row.tobytes() if keep else None for row, keep in zip(slots, has, strict=True)]


def _rows(days: pd.DataFrame) -> list[dict[str, Any]]:
    plain = days[[*KEYS, "total", "readings", "first_minute", "last_minute"]].copy()
    plain["day"] = plain["day"].dt.date
    records: list[dict[str, Any]] = plain.astype(object).to_dict("records")
    for record, blob in zip(records, blobs(days), strict=True):
        record["delivery_pk"] = int(record["delivery_pk"])
        record["slots"] = blob
    return records


def remember(session: Session, delivery_pk: int, days: pd.DataFrame) -> int:
    """Write a delivery's day rows and mark it summarised; returns how many days."""
    records = _rows(days) if len(days) else []
    for start in range(0, len(records), 50_000):
        session.execute(insert(ReadingDay), records[start : start + 50_000])
    session.add(SummarisedDelivery(delivery_pk=delivery_pk, days=len(records), summarised_at=utcnow()))
    return len(records)


def forget(session: Session, delivery_pk: int) -> None:
    """Drop a delivery's day rows, so the next build summarises its signals again."""
    session.execute(delete(ReadingDay).where(ReadingDay.delivery_pk == delivery_pk))
    session.execute(delete(SummarisedDelivery).where(SummarisedDelivery.delivery_pk == delivery_pk))


def summarise_pending(session: Session) -> int:
    """Summarise from their signals the deliveries not marked summarised; returns how many days."""
    done = select(SummarisedDelivery.delivery_pk)
    pending = session.execute(select(Delivery.id).where(Delivery.id.not_in(done)).order_by(Delivery.id))
    written = 0
    for delivery_pk in pending.scalars().all():
        days = merge(summarise(part, delivery_pk) for part in _delivery_readings(session, delivery_pk))
        written += remember(session, delivery_pk, days)
    session.flush()
    return written


DAY_FIELDS = (
    "resident", "partner_id", "sector", "consent_id", "delivery_pk", "day", "total", "first_minute",
    "last_minute",
)  # fmt: skip


def days_frame(
    session: Session,
    utility: str,
    partners: Iterable[str],
    since: dt.date,
    until: dt.date,
    residents: set[str] | None = None,
    with_slots: bool = False,
) -> pd.DataFrame:
    """Day rows of one utility from these partners, days in [since, until), oldest delivery first."""
    fields = ["id", *DAY_FIELDS, "slots"] if with_slots else ["id", *DAY_FIELDS]
    columns = [type_coerce(ReadingDay.day, String).label("day") if f == "day" else getattr(ReadingDay, f)
               for f in fields]  # fmt: skip
    query = select(*columns).where(
        ReadingDay.utility == utility,
        ReadingDay.partner_id.in_(sorted(set(partners))),
        ReadingDay.day >= since,
        ReadingDay.day < until,
    )
    parts = list(_stream(session, query, fields, residents))
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=fields)
    frame["day"] = driver_times(frame["day"])
    for name in ("id", "delivery_pk", "first_minute", "last_minute"):
        frame[name] = frame[name].astype("int64")
    frame["total"] = frame["total"].astype("float64")
    # sorted here rather than in SQL (a sort there costs more than the read of the index order)
    frame = frame.sort_values(["delivery_pk", "id"], ignore_index=True).drop(columns="id")
    return with_times(frame)


def with_times(days: pd.DataFrame) -> pd.DataFrame:
    """Add the signal-style time range of each day row (event_start, event_end) for explanations."""
    day = days["day"].astype("datetime64[us]")
    days["event_start"] = day + pd.to_timedelta(days["first_minute"].astype("int64"), unit="min")
    days["event_end"] = day + pd.to_timedelta(days["last_minute"].astype("int64"), unit="min")
    return days


def slot_matrix(days: pd.DataFrame, first_day: pd.Timestamp, n_days: int) -> tuple[pd.Index, np.ndarray]:
    """Residents and their half-hours laid end to end: (residents, n_days * 48), NaN where none.

    Rows of the same resident and day (a second delivery, another partner) fill only slots still empty,
    oldest delivery first, as the first reading of a half-hour wins.
    """
    slotted = days.loc[days["slots"].notna()]
    residents = pd.Index(pd.unique(slotted["resident"]))
    matrix = np.full((len(residents) * n_days, SLOTS), np.nan, dtype=VALUE)
    if slotted.empty:
        return residents, matrix.reshape(0, n_days * SLOTS)
    d = ((slotted["day"] - first_day) // pd.Timedelta(days=1)).to_numpy()
    inside = (d >= 0) & (d < n_days)
    cell = np.where(inside, residents.get_indexer(slotted["resident"]) * n_days + d, -1)
    repeated = pd.Series(cell).duplicated().to_numpy() & inside
    first = inside & ~repeated
    stored = slotted["slots"].to_numpy()
    for start in range(0, len(stored), CHUNK_ROWS):  # a chunk of blobs at a time: no copy of them all
        part = slice(start, start + CHUNK_ROWS)
        values = np.frombuffer(b"".join(stored[part]), dtype=VALUE).reshape(-1, SLOTS)
        matrix[cell[part][first[part]]] = values[first[part]]
        again = repeated[part]
        for at, row in zip(cell[part][again], values[again], strict=True):
            matrix[at] = np.where(np.isnan(matrix[at]), row, matrix[at])
    return residents, matrix.reshape(len(residents), n_days * SLOTS)
