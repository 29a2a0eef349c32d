"""Generated linkage benchmark: a register, and partner-side copies with the variations of docs/feeds.md.

Customers are consented residents (the right answer is their resident), residents without consent
and people from the neighbouring city (the right answer is no match). Namesakes come from the town
generator. Deterministic for a seed.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, replace

from identity.link import Keys, identity_keys
from mimamori_demo.town.partners import PARTNERS
from mimamori_demo.town.population import CITY, PREFECTURE, Person, build_town
from mimamori_demo.town.variants import render_identity

START = dt.date(2026, 11, 1)
# Kana often confused when typed or read aloud.
KANA_SLIPS = {
    "シ": "ツ",
    "ツ": "シ",
    "ソ": "ン",
    "ン": "ソ",
    "カ": "ガ",
    "タ": "ダ",
    "ハ": "バ",
    "ホ": "ボ",
    "コ": "ゴ",
}


@dataclass(frozen=True)
class Customer:
    """One partner customer: the identity as the partner holds it, and the resident it really is."""

    customer_id: str
    identity: tuple[str, str, str, str, str, str]
    truth: str | None


def _slip(rng: random.Random, identity: dict[str, str]) -> dict[str, str]:
    """One realistic typing slip: a confused kana, a wrong kanji, a digit in the address or birth date."""
    kind = rng.choice(("kana", "kanji", "address", "birth"))
    text = identity[
        "name_kana"
        if kind == "kana"
        else "name_kanji"
        if kind == "kanji"
        else "address"
        if kind == "address"
        else "birth_date"
    ]
    if not text:
        return identity
    if kind == "kana":
        spots = [i for i, ch in enumerate(text) if ch in KANA_SLIPS]
        if spots:
            i = rng.choice(spots)
            text = text[:i] + KANA_SLIPS[text[i]] + text[i + 1 :]
        return {**identity, "name_kana": text}
    if kind == "kanji":
        i = rng.randrange(len(text))
        return {**identity, "name_kanji": text[:i] + rng.choice("子美和") + text[i + 1 :]}
    digits = [i for i, ch in enumerate(text) if ch.isdigit()]
    if not digits:
        return identity
    i = rng.choice(digits)
    changed = text[:i] + str((int(text[i]) + 1) % 10) + text[i + 1 :]
    return {**identity, "address" if kind == "address" else "birth_date": changed}


def register_keys(people: list[Person]) -> dict[str, Keys]:
    """Comparison keys of register residents, as the vault would give them."""
    return {
        p.resident_id: identity_keys(
            p.name.kana, p.name.kanji, p.birth.isoformat(), p.address.register, p.phone, PREFECTURE, CITY
        )
        for p in people
    }


def generate(
    residents: int, customers: int, seed: int = 11, consented_share: float = 0.8, slip_rate: float = 0.05
) -> tuple[list[Person], list[Customer]]:
    """Consented register residents and partner customers (about 80% of them consented residents)."""
    rng = random.Random(seed)
    town = build_town(rng, int(residents / consented_share) + 1, START)
    people = list(town.residents.values())
    rng.shuffle(people)
    consented, others = people[:residents], people[residents:]
    outsiders = list(town.outsiders.values())
    found: list[Customer] = []
    for n in range(customers):
        roll = rng.random()
        if roll < 0.85:
            person, truth = consented[rng.randrange(len(consented))], None
            truth = person.resident_id
        elif roll < 0.97 or not outsiders:
            person, truth = others[rng.randrange(len(others))], None
        else:
            person, truth = replace(outsiders[rng.randrange(len(outsiders))], resident_id=""), None
        style = PARTNERS[rng.randrange(len(PARTNERS))].style
        identity = render_identity(rng, person, style)
        if rng.random() < slip_rate:
            identity = _slip(rng, identity)
        found.append(
            Customer(
                f"C{n:07d}",
                (
                    f"C{n:07d}",
                    identity["name_kana"],
                    identity["name_kanji"],
                    identity["birth_date"],
                    identity["address"],
                    identity["phone"],
                ),
                truth,
            )
        )
    return consented, found
