"""Reading days in the warehouse hold what the signals hold, and go when their signals go."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from warehouse import reading_days as readings
from warehouse.db import migrate, session_scope
from warehouse.load import append_signals, load_signals
from warehouse.models import Delivery, ReadingDay, SummarisedDelivery
from warehouse.reading_days import days_frame, slot_matrix, summarise, summarise_pending
from warehouse.retention import expire_signals

pytestmark = pytest.mark.integration
FIRST = pd.Timestamp("2026-11-01")
RESIDENTS = ("k1:aa", "k1:bb", "k1:cc")


def frame(resident: str, partner: str, utility: str, starts: pd.DatetimeIndex, minutes: int, seed: int):
    values = np.round(np.random.default_rng(seed).uniform(0.05, 1.2, len(starts)), 3)
    return pd.DataFrame(
        {
            "resident": resident,
            "partner_id": partner,
            "sector": "utility",
            "kind": "reading",
            "event_type": utility,
            "event_start": starts,
            "event_end": starts + pd.Timedelta(minutes=minutes),
            "value": values,
            "unit": "kWh",
            "consent_id": f"C-{resident}",
        }
    )


def deliveries(session) -> dict[str, tuple[int, pd.DataFrame]]:
    """Electricity for three days (one resident with gaps), a resend filling a gap, and daily water."""
    half_hours = pd.date_range(FIRST, FIRST + pd.Timedelta(days=3), freq="30min", inclusive="left")
    gappy = half_hours[(np.arange(len(half_hours)) % 7) != 3]
    electricity = pd.concat(
        [frame(r, "midori-denki", "electricity", gappy if r == "k1:cc" else half_hours, 30, n)
         for n, r in enumerate(RESIDENTS)]
        + [frame("k1:aa", "midori-denki", "electricity", half_hours[:2], 30, 9)],  # same slots again
        ignore_index=True,
    )  # fmt: skip
    resend = frame("k1:cc", "midori-denki", "electricity", half_hours.difference(gappy), 30, 11)
    water = pd.concat(
        [
            frame(r, "minato-suido", "water", pd.date_range(FIRST, periods=3, freq="D"), 1440, 20)
            for r in RESIDENTS
        ],
        ignore_index=True,
    )
    made = {}
    for name, rows in (("electricity", electricity), ("resend", resend), ("water", water)):
        delivery = Delivery(partner_id=name, delivery_id=name, received_at=FIRST, status="loaded", files=[])
        session.add(delivery)
        session.flush()
        load_signals(session, delivery.id, rows)
        made[name] = (delivery.id, rows.assign(delivery_pk=delivery.id))
    return made


def electricity_days(session) -> pd.DataFrame:
    return days_frame(
        session, "electricity", {"midori-denki"}, FIRST.date(), dt.date(2026, 11, 4), set(RESIDENTS), True
    )


def test_days_read_back_equal_the_days_summarised_in_memory(database_url: str):
    migrate(database_url)
    with session_scope(database_url) as session:
        made = deliveries(session)
        assert summarise_pending(session) == 0  # loading summarised every delivery
        every = pd.concat([rows for _, rows in made.values()], ignore_index=True)
        memory = summarise(every).sort_values("delivery_pk", kind="stable")
        memory["slots"] = readings.blobs(memory)
        want_residents, want = slot_matrix(memory.loc[memory["utility"] == "electricity"], FIRST, 3)
        got_residents, got = slot_matrix(electricity_days(session), FIRST, 3)
        assert list(got_residents) == list(want_residents) == list(RESIDENTS)
        np.testing.assert_array_equal(got, want)
        assert not np.isnan(got).any()  # the resend filled k1:cc's gaps
        first_value = every.loc[every["resident"] == "k1:aa", "value"].iloc[0]
        assert got[0, 0] == first_value  # the first reading of a half-hour wins
        water = days_frame(session, "water", {"minato-suido"}, FIRST.date(), dt.date(2026, 11, 4), None)
        assert sorted(water["total"].round(3)) == sorted(made["water"][1]["value"])
        assert set(water["last_minute"]) == {1440} and set(water["event_end"].dt.hour) == {0}


def test_days_summarised_later_from_the_signals_equal_those_written_at_load(database_url: str, monkeypatch):
    monkeypatch.setattr(readings, "CHUNK_ROWS", 100)  # a delivery is read back in several partial summaries
    migrate(database_url)
    with session_scope(database_url) as session:
        made = deliveries(session)
        at_load = electricity_days(session)
        for pk, _ in made.values():
            readings.forget(session, pk)  # as a warehouse upgraded from before reading days
        assert electricity_days(session).empty
        # electricity and water: 3 residents × 3 days each; the resend: k1:cc's 3 days
        assert summarise_pending(session) == 3 * 3 + 3 + 3 * 3
        assert summarise_pending(session) == 0  # every delivery is marked, none is summarised twice
        later = electricity_days(session)
        columns = ["resident", "day", "delivery_pk", "total", "first_minute", "last_minute", "slots"]
        order = ["delivery_pk", "resident", "day"]
        pd.testing.assert_frame_equal(
            later[columns].sort_values(order, ignore_index=True),
            at_load[columns].sort_values(order, ignore_index=True),
        )


def test_reloaded_appended_and_expired_signals_change_their_days(database_url: str):
    migrate(database_url)
    with session_scope(database_url) as session:
        made = deliveries(session)
        pk, rows = made["electricity"]
        count = select(func.count()).select_from(ReadingDay).where(ReadingDay.delivery_pk == pk)
        load_signals(session, pk, rows.loc[rows["resident"] == "k1:bb"].drop(columns="delivery_pk"))
        assert session.execute(count).scalar_one() == 3  # only k1:bb's three days are left
        append_signals(session, pk, rows.loc[rows["resident"] == "k1:aa"].drop(columns="delivery_pk"))
        assert session.execute(count).scalar_one() == 0 and session.get(SummarisedDelivery, pk) is None
        assert summarise_pending(session) == 6  # k1:bb's and k1:aa's days, from the signals
        expire_signals(session, dt.date(2026, 11, 3), "test", days=1)  # signals before 11/2 go
        left = session.execute(select(ReadingDay.day).distinct()).scalars().all()
        assert sorted(left) == [dt.date(2026, 11, 2), dt.date(2026, 11, 3)]
