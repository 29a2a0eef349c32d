"""The privacy gate at the ingest boundary: only rows with a consent in force and in scope cross it."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import pandas as pd
import pytest

from connectors import IDENTIFIER_COLUMNS, Canonical, Partner
from connectors.canonical import Rejections
from consent.book import Consent, ConsentBook
from identity.keys import KeyRing
from identity.resolver import Resolution
from ingest.boundary import Batch, gate
from warehouse.load import SIGNAL_COLUMNS

pytestmark = pytest.mark.unit
D = dt.date
COOP = Partner(
    "kanda-coop", "神田生協", "delivery", "utf-8", dt.time(6), "AG-1", D(2026, 1, 1), D(2027, 12, 31)
)
BOOK = ConsentBook(
    [
        Consent("C1", "r-ok", frozenset({"*"}), frozenset({"*"}), D(2026, 1, 1), None, None),
        Consent(
            "C2", "r-scope", frozenset({"midori-denki"}), frozenset({"utility"}), D(2026, 1, 1), None, None
        ),
        Consent("C3", "r-gone", frozenset({"*"}), frozenset({"*"}), D(2026, 1, 1), None, D(2026, 11, 2)),
    ]
)


def rows(residents: list[str | None], days: list[str]) -> pd.DataFrame:
    """Canonical rows of the delivery sector, with identifier columns as a partner sends them."""
    n = len(residents)
    frame = pd.DataFrame(
        {
            "row_no": range(1, n + 1),
            "kind": "event",
            "event_type": "delivery_received",
            "event_start": pd.to_datetime(days),
            "event_end": pd.NaT,
            "value": None,
            "unit": None,
        }
    )
    for column in IDENTIFIER_COLUMNS:
        frame[column] = [f"{column}-of-{who or 'stranger'}" for who in residents]
    return frame


def test_the_gate_names_the_consent_or_why_each_row_is_dropped():
    residents = ["r-ok", "r-scope", "r-gone", "r-gone", None, "r-ok"]
    frame = rows(
        residents, ["2026-11-01", "2026-11-01", "2026-11-01", "2026-11-02", "2026-11-01", "2026-11-02"]
    )
    consent_ids, reasons = gate(frame, pd.Series(residents, dtype=object), BOOK, COOP)
    assert consent_ids.tolist() == ["C1", None, "C3", None, None, "C1"]
    assert reasons.tolist() == [None, "out_of_scope", None, "withdrawn", "no_consent", None]
    assert consent_ids.index.equals(frame.index) and reasons.index.equals(frame.index)


@dataclass
class Linked:
    """A resolver double: each identity goes to the resident its name column was made from."""

    keys: KeyRing

    def resolve(self, partner_id: str, identity: tuple[str, ...]) -> Resolution:
        who = identity[IDENTIFIER_COLUMNS.index("name_kana")].removeprefix("name_kana-of-")
        return Resolution("stranger") if who == "stranger" else Resolution("linked", resident=who)


def test_rows_without_a_valid_in_scope_consent_are_dropped_and_only_counted():
    residents = ["r-ok", "r-scope", "r-gone", None, "r-ok"]
    frame = rows(residents, ["2026-11-01", "2026-11-01", "2026-11-03", "2026-11-01", "2026-11-02"])
    batch = Batch(COOP, Linked(KeyRing("k1", {"k1": b"k" * 32})), BOOK)  # type: ignore[arg-type]
    batch.add(Canonical(frame, Rejections(), [], frame), len(frame))
    signals = batch.frame()
    assert list(signals.columns) == list(SIGNAL_COLUMNS)
    assert signals["resident"].tolist() == ["r-ok", "r-ok"] and signals["consent_id"].tolist() == ["C1", "C1"]
    assert batch.dropped == Counter({"out_of_scope": 1, "withdrawn": 1, "no_consent": 1})
    assert not batch.held and not batch.rejected_rows
    crossing = [str(value) for value in signals.to_numpy().ravel()]
    assert not [value for value in crossing if "-of-" in value]  # no identifier value crosses
