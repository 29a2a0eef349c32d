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

# Per field: weight when equal, when nearly equal (a typing slip), when different (log-odds style).
WEIGHTS = {
    "birth": (5.0, 2.0, -6.0),
    "kana": (4.0, 2.0, -3.0),
    "kanji": (3.0, 1.5, -1.0),
    "address": (3.0, 1.0, -2.0),
    "phone": (2.0, 0.0, 0.0),
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


def _near_text(a: str, b: str) -> bool:
    return len(a) >= 3 and Levenshtein.distance(a, b) <= 1


def _near_kana(a: str, b: str) -> bool:
    return Levenshtein.normalized_similarity(a, b) >= NEAR_KANA


def _near_birth(a: dt.date, b: dt.date) -> bool:
    # one mistyped digit, or day and month swapped
    return Levenshtein.distance(f"{a:%Y%m%d}", f"{b:%Y%m%d}") <= 1 or (a.year, a.month, a.day) == (
        b.year,
        b.day,
        b.month,
    )


def _near_address(left: Keys, right: Keys) -> bool:
    return left.town == right.town and _near_text(left.address, right.address)


def _level(equal: bool, near: bool, weights: tuple[float, float, float]) -> float:
    return weights[0] if equal else weights[1] if near else weights[2]


def score(left: Keys, right: Keys) -> float:
    """Sum of per-field weights: equal, nearly equal (a typing slip) or different; blanks count nothing."""
    total = 0.0
    if left.birth and right.birth:
        total += _level(left.birth == right.birth, _near_birth(left.birth, right.birth), WEIGHTS["birth"])
    if left.kana and right.kana:
        total += _level(left.kana == right.kana, _near_kana(left.kana, right.kana), WEIGHTS["kana"])
    if left.kanji and right.kanji:
        total += _level(left.kanji == right.kanji, _near_text(left.kanji, right.kanji), WEIGHTS["kanji"])
    if left.address and right.address:
        total += _level(left.address == right.address, _near_address(left, right), WEIGHTS["address"])
    if left.phone and right.phone:
        total += _level(left.phone == right.phone, False, WEIGHTS["phone"])
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
