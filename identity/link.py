"""Linkage of partner identities to consented residents: block, score, decide (link, review, no match)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from identity.address import normalise_address
from identity.dates import parse_birth_date
from identity.errors import InvalidIdentifier
from identity.kana import kana_key
from identity.kanji import normalise_kanji_name
from identity.phone import normalise_phone

LINK = "link"
REVIEW = "review"
NO_MATCH = "no_match"

# Agreement and disagreement weights per field (log-odds style); a link needs LINK_AT, review REVIEW_AT.
WEIGHTS = {
    "birth": (5.0, -6.0),
    "kana": (4.0, -3.0),
    "kanji": (3.0, -1.0),
    "address": (3.0, -2.0),
    "phone": (2.0, 0.0),
}
NEAR_KANA = 0.85
LINK_AT = 9.0
REVIEW_AT = 5.0
MARGIN = 3.0


@dataclass(frozen=True)
class Keys:
    """Comparison keys of one identity, whoever holds it."""

    kana: str
    kanji: str
    birth: dt.date | None
    address: str
    town: str
    phone: str


@dataclass(frozen=True)
class Decision:
    """The linkage verdict for one partner identity."""

    outcome: str
    resident: str | None
    score: float


def identity_keys(
    name_kana: str, name_kanji: str, birth_date: str, address: str, phone: str, prefecture: str, city: str
) -> Keys:
    """Normalise the identifier columns of FEEDS.md into comparison keys (bad values become blanks)."""
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


def _field(a: str | dt.date | None, b: str | dt.date | None, weights: tuple[float, float]) -> float:
    if not a or not b:
        return 0.0
    return weights[0] if a == b else weights[1]


def score(left: Keys, right: Keys) -> float:
    """Sum of field agreement weights; a near kana match (typo, missed voicing) earns half."""
    total = _field(left.birth, right.birth, WEIGHTS["birth"])
    if left.kana and right.kana and left.kana != right.kana:
        similar = Levenshtein.normalized_similarity(left.kana, right.kana) >= NEAR_KANA
        total += WEIGHTS["kana"][0] / 2 if similar else WEIGHTS["kana"][1]
    else:
        total += _field(left.kana, right.kana, WEIGHTS["kana"])
    total += _field(left.kanji, right.kanji, WEIGHTS["kanji"])
    total += _field(left.address, right.address, WEIGHTS["address"])
    total += _field(left.phone, right.phone, WEIGHTS["phone"]) if left.phone == right.phone else 0.0
    return total


def _blocks(keys: Keys) -> Iterable[tuple[str, ...]]:
    birth = keys.birth.isoformat() if keys.birth else ""
    for name, *parts in (
        ("kana-birth", keys.kana, birth),
        ("kana-address", keys.kana, keys.address),
        ("kanji-birth", keys.kanji, birth),
        ("birth-address", birth, keys.address),
        ("phone", keys.phone),
    ):
        if all(parts):
            yield (name, *parts)


class Linker:
    """Links partner identities to a fixed set of consented residents."""

    def __init__(self, residents: dict[str, Keys]):
        self._residents = residents
        self._index: dict[tuple[str, ...], set[str]] = defaultdict(set)
        for resident, keys in residents.items():
            for block in _blocks(keys):
                self._index[block].add(resident)

    def __len__(self) -> int:
        return len(self._residents)

    def decide(self, keys: Keys) -> Decision:
        """Score every candidate sharing a block and decide link, review or no match."""
        candidates: set[str] = set()
        for block in _blocks(keys):
            candidates |= self._index.get(block, set())
        if not candidates:
            return Decision(NO_MATCH, None, 0.0)
        ranked = sorted(((score(keys, self._residents[r]), r) for r in candidates), reverse=True)
        best, resident = ranked[0]
        runner_up = ranked[1][0] if len(ranked) > 1 else float("-inf")
        if best >= LINK_AT and best - runner_up >= MARGIN:
            return Decision(LINK, resident, best)
        if best >= REVIEW_AT:
            return Decision(REVIEW, resident, best)
        return Decision(NO_MATCH, None, best)
