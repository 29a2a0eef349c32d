"""Linkage of partner identities to consented residents: block, score, decide (link, review, no match)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from identity.address import normalise_address
from identity.dates import parse_birth_date
from identity.errors import InvalidIdentifier
from identity.kana import kana_key
from identity.kanji import normalise_kanji_name
from identity.phone import normalise_phone
from identity.scoring import (
    LINK,
    NO_MATCH,
    REVIEW,
    Comparison,
    Decision,
    Schema,
    near_date,
    near_edit,
    near_similar,
)
from identity.scoring import Linker as GenericLinker
from identity.scoring import score as generic_score

__all__ = ["LINK", "NO_MATCH", "REVIEW", "SCHEMA", "Decision", "Keys", "Linker", "identity_keys", "score"]

# Resident identities: weights when equal, nearly equal (a typing slip), different (log-odds style).
SCHEMA = Schema(
    comparisons=(
        Comparison("birth", 5.0, 2.0, -6.0, near_date),
        Comparison("kana", 4.0, 2.0, -3.0, near_similar(0.85)),
        Comparison("kanji", 3.0, 1.5, -1.0, near_edit),
        Comparison("address", 3.0, 1.0, -2.0, near_edit),
        Comparison("phone", 2.0, 0.0, 0.0),
    ),
    blocks=(("kana", "birth"), ("kana", "address"), ("kanji", "birth"), ("birth", "address"), ("phone",)),
    link_at=9.0,
    review_at=5.0,
    margin=3.0,
)


@dataclass(frozen=True)
class Keys:
    """Comparison keys of one identity, whoever holds it."""

    kana: str
    kanji: str
    birth: dt.date | None
    address: str
    town: str
    phone: str


def identity_keys(
    name_kana: str, name_kanji: str, birth_date: str, address: str, phone: str, prefecture: str, city: str
) -> Keys:
    """Normalise the identifier columns of docs/feeds.md into comparison keys (bad values become blanks)."""
    try:
        birth: dt.date | None = parse_birth_date(birth_date) if birth_date else None
    except InvalidIdentifier:
        birth = None
    place = normalise_address(address, prefecture=prefecture, city=city) if address else None
    return Keys(
        kana=kana_key(name_kana) if name_kana else "",
        kanji=normalise_kanji_name(name_kanji) if name_kanji else "",
        birth=birth,
        address=place.key if place and place.block else "",
        town=place.town if place else "",
        phone=normalise_phone(phone) if phone else "",
    )


class Linker(GenericLinker):
    """Links partner identities to consented residents under the resident schema."""

    def __init__(self, residents: dict[str, Keys]):
        super().__init__(SCHEMA, residents)


def score(left: Keys, right: Keys) -> float:
    """The resident schema's score of two identities."""
    return generic_score(SCHEMA, left, right)
