"""Identifiers that cannot be read are counted per delivery by field and reason, never by value."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest

from connectors import IDENTIFIER_COLUMNS
from identity.link import identity_keys
from identity.resolver import Resolution
from ingest.boundary import link_rows

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("birth", "address", "phone", "refused"),
    [
        ("1948-04-05", "本町1-2-3", "06-6123-4567", ()),
        ("", "", "", ()),
        ("そのうち", "本町1-2-3", "", ("birth_date: unrecognised format",)),
        ("1948-04-05", "本町", "", ("address: no block or lot number",)),
        ("1948-04-05", "本町1-2-3", "0120-123-456", ("phone: shared service number",)),
        ("S99.1.1", "本町", "06-6123", (
            "birth_date: outside era range", "phone: not a Japanese number of a valid length",
            "address: no block or lot number",
        )),
    ],
)  # fmt: skip
def test_identity_keys_name_what_was_refused(birth: str, address: str, phone: str, refused: tuple) -> None:
    keys = identity_keys("ヤマダ", "山田", birth, address, phone, "", "")
    assert keys.refused == refused
    assert all(value not in " ".join(keys.refused) for value in (birth, address, phone) if value)


class _Resolver:
    """Answers every identity with the refusals of its keys, as the real resolver does."""

    def resolve(self, partner_id: str, identity: tuple[str, ...]) -> Resolution:
        _, kana, kanji, birth, address, phone = identity
        keys = identity_keys(kana, kanji, birth, address, phone, "", "")
        return Resolution("no_match", refused=keys.refused)


def test_link_rows_counts_refusals_once_per_distinct_identity() -> None:
    rows = pd.DataFrame(
        [
            ("c1", "ヤマダ", "山田", "昭和九十九年一月一日", "本町1-2-3", ""),
            ("c1", "ヤマダ", "山田", "昭和九十九年一月一日", "本町1-2-3", ""),  # the same customer again
            ("c2", "スズキ", "鈴木", "1950-01-01", "本町", "0570-000-000"),
        ],
        columns=list(IDENTIFIER_COLUMNS),
    )
    linked = link_rows(rows, _Resolver(), "p1")  # type: ignore[arg-type]
    assert linked.refused == Counter(
        {
            "birth_date: outside era range": 1,
            "address: no block or lot number": 1,
            "phone: shared service number": 1,
        }
    )
