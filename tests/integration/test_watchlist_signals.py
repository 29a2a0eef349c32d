"""The build's signal reader gives the frame the rules have always seen, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import select

from warehouse.db import migrate, session_scope
from warehouse.models import Delivery, Signal
from watchlist import signals as reader
from watchlist.signals import SIGNAL_FIELDS, read_signals

pytestmark = pytest.mark.integration
SINCE, UNTIL = dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 8)


def reference(session, residents: set[str]) -> pd.DataFrame:
    """Row by row through the ORM, filtered in pandas afterwards (how the build used to read)."""
    query = select(*(getattr(Signal, f) for f in SIGNAL_FIELDS)).where(
        Signal.event_start >= SINCE, Signal.event_start < UNTIL
    )
    frame = pd.DataFrame(session.execute(query).all(), columns=list(SIGNAL_FIELDS))
    frame = frame.loc[frame["resident"].isin(residents)].reset_index(drop=True)
    frame["event_start"] = pd.to_datetime(frame["event_start"])
    frame["event_end"] = pd.to_datetime(frame["event_end"])
    frame["value"] = pd.to_numeric(frame["value"])
    return frame


def signal(pk: int, resident: str, start: dt.datetime, reading: bool) -> Signal:
    return Signal(
        delivery_pk=pk,
        resident=resident,
        partner_id="midori-denki" if reading else "kanda-coop",
        sector="utility" if reading else "delivery",
        kind="reading" if reading else "event",
        event_type="electricity" if reading else "no_answer",
        event_start=start,
        event_end=start + dt.timedelta(minutes=30) if reading else None,
        value=0.125 if reading else None,
        unit="kWh" if reading else None,
        consent_id=f"C-{resident}",
    )


def test_only_the_population_in_the_window_is_read_in_chunks(database_url: str, monkeypatch):
    monkeypatch.setattr(reader, "CHUNK_ROWS", 7)  # several chunks, the last one partly filled
    migrate(database_url)
    with session_scope(database_url) as session:
        delivery = Delivery(partner_id="p", delivery_id="d", received_at=SINCE, status="loaded", files=[])
        session.add(delivery)
        session.flush()
        starts = [SINCE - dt.timedelta(minutes=30), SINCE, SINCE + dt.timedelta(days=3, minutes=17), UNTIL]
        for n, resident in enumerate(("k1:aa", "k1:bb", "k1:cc", "k1:dd", "k1:ee")):
            for i, start in enumerate(starts):
                session.add(signal(delivery.id, resident, start + dt.timedelta(seconds=n), (i + n) % 2 == 0))
        session.flush()
        watched = {"k1:aa", "k1:cc", "k1:ee", "k1:zz"}
        got = read_signals(session, watched, SINCE, UNTIL)
        want = reference(session, watched)
        assert len(got) == 6 and set(got["resident"]) == {"k1:aa", "k1:cc", "k1:ee"}
        pd.testing.assert_frame_equal(
            got.sort_values(["resident", "event_start"]).reset_index(drop=True),
            want.sort_values(["resident", "event_start"]).reset_index(drop=True),
        )
        assert got["event_end"].isna().sum() == 3 and got["unit"].isna().sum() == 3
        empty = read_signals(session, {"k1:nobody"}, SINCE, UNTIL)
        assert list(empty.columns) == list(SIGNAL_FIELDS) and empty.empty
