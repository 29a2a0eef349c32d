"""Linkage of partner identities to consented residents: block, score, decide (link, review, no match)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from identity.address import normalise_address
from identity.dates import parse_birth_date
from identity.errors import InvalidIdentifier
from identity.kana import kana_key
from identity.kanji import normalise_kanji_name
from identity.phone import phone_numbers
from identity.scoring import (
    LINK,
    NO_MATCH,
    REVIEW,
    Comparison,
    Decision,
    Readings,
    Schema,
    near_date,
    near_edit,
    near_similar,
)
from identity.scoring import Linker as GenericLinker
from identity.scoring import score as generic_score

__all__ = ["LINK", "NO_MATCH", "REVIEW", "SCHEMA", "Decision", "Keys", "Linker", "identity_keys", "score"]

NO_BLOCK = "no block or lot number"

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
    address: Readings
    town: str
    phone: Readings
    # "<field>: <reason>" for each identifier that was given but could not be read (never the value).
    refused: tuple[str, ...] = ()


def identity_keys(
    name_kana: str, name_kanji: str, birth_date: str, address: str, phone: str, prefecture: str, city: str
) -> Keys:
    """Normalise the identifier columns of docs/feeds.md into comparison keys.

    A value that cannot be read becomes a blank key, and the field and reason are kept in ``refused``
    so the delivery's counts show it.
    """
    refused: list[str] = []
    birth: dt.date | None = None
    numbers: tuple[str, ...] = ()
    try:
        birth = parse_birth_date(birth_date) if birth_date and birth_date.strip() else None
    except InvalidIdentifier as error:
        refused.append(str(error))
    try:
        numbers = phone_numbers(phone) if phone and phone.strip() else ()
    except InvalidIdentifier as error:
        refused.append(str(error))
    place = normalise_address(address, prefecture=prefecture, city=city) if address else None
    if place is not None and not place.block and (place.town or place.building):
        refused.append(f"address: {NO_BLOCK}")
    return Keys(
        kana=kana_key(name_kana) if name_kana else "",
        kanji=normalise_kanji_name(name_kanji) if name_kanji else "",
        birth=birth,
        address=Readings(place.keys if place and place.block else ()),
        town=place.town if place else "",
        phone=Readings(numbers),
        refused=tuple(refused),
    )


class Linker(GenericLinker):
    """Links partner identities to consented residents under the resident schema."""

    def __init__(self, residents: dict[str, Keys]):
        super().__init__(SCHEMA, residents)


def score(left: Keys, right: Keys) -> float:
    """The resident schema's score of two identities."""
    return generic_score(SCHEMA, left, right)
