"""Households and residents of みどり市, plus a few customers who live in the neighbouring city."""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from dataclasses import dataclass, replace

from mimamori_demo.town.names import Name, NamePool, load_name_pool

__all__ = [
    "CITY",
    "DISTRICTS",
    "MUNICIPALITY_CODE",
    "PREFECTURE",
    "TOWNS",
    "Address",
    "Person",
    "Town",
    "age_on",
    "build_town",
]

MUNICIPALITY_CODE = "149999"
PREFECTURE = "神奈川県"
CITY = "みどり市"
DISTRICTS: dict[str, str] = {
    "D01": "北部地域包括支援センター",
    "D02": "東部地域包括支援センター",
    "D03": "南部地域包括支援センター",
    "D04": "西部地域包括支援センター",
}
# 町名 -> (district, number of 丁目)
TOWNS: dict[str, tuple[str, int]] = {
    "本町": ("D01", 4),
    "栄町": ("D01", 3),
    "緑が丘": ("D01", 5),
    "桜台": ("D02", 3),
    "旭町": ("D02", 4),
    "港南": ("D02", 2),
    "若葉町": ("D03", 3),
    "松風台": ("D03", 4),
    "汐見町": ("D03", 2),
    "富士見": ("D04", 5),
    "山手町": ("D04", 3),
    "宮前": ("D04", 2),
}
_BUILDINGS = (
    "みどりハイツ",
    "コーポ栄",
    "メゾン旭",
    "サンハイム",
    "グリーンコート",
    "市営住宅",
    "パレス本町",
)
_NEIGHBOUR = ("神奈川県", "みなと市", ("港北", "浜町", "青葉台"))


@dataclass(frozen=True)
class Address:
    """A residential address split into the parts partners write differently."""

    prefecture: str
    city: str
    town: str
    chome: int
    ban: int
    go: int
    building: str = ""
    room: int = 0

    @property
    def register(self) -> str:
        """The register form, e.g. 神奈川県みどり市本町1丁目2番3号　みどりハイツ203."""
        text = f"{self.prefecture}{self.city}{self.town}{self.chome}丁目{self.ban}番{self.go}号"
        return f"{text}\u3000{self.building}{self.room}" if self.building else text


@dataclass(frozen=True)
class Person:
    """A resident (or, with an empty resident_id, a customer living outside the city)."""

    key: str
    resident_id: str
    name: Name
    sex: str
    birth: datetime.date
    address: Address
    district_code: str
    household_id: str
    phone: str
    registered_on: datetime.date


@dataclass(frozen=True)
class Town:
    """Everyone the generator knows about, keyed for deterministic lookup."""

    residents: dict[str, Person]
    households: dict[str, tuple[str, ...]]
    outsiders: dict[str, Person]
    namesakes: tuple[tuple[str, str], ...]

    def person(self, key: str) -> Person:
        """Look up a resident by resident id or an outsider by its key."""
        return self.residents[key] if key in self.residents else self.outsiders[key]


def age_on(birth: datetime.date, day: datetime.date) -> int:
    """Age in whole years on a day."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


Member = tuple[str, int]  # (sex, age)


def _older_sex(rng: random.Random) -> str:
    return "F" if rng.random() < 0.62 else "M"


def _couple(rng: random.Random, lo: int, hi: int) -> list[Member]:
    husband = rng.randint(lo, hi)
    return [("M", husband), ("F", max(lo, husband - rng.randint(0, 5)))]


def _family(rng: random.Random) -> list[Member]:
    parents = _couple(rng, 30, 56)
    count = rng.choices((1, 2, 3), weights=(4.5, 4.5, 1.0), k=1)[0]
    kids = [(rng.choice("MF"), rng.randint(0, max(0, parents[1][1] - 24))) for _ in range(count)]
    return parents + kids


def _three_generations(rng: random.Random) -> list[Member]:
    elders = [(_older_sex(rng), rng.randint(68, 94))]
    if rng.random() < 0.4:
        elders = _couple(rng, 70, 90)
    adults = _couple(rng, 38, 55)
    kids = [(rng.choice("MF"), rng.randint(3, 17))] if rng.random() < 0.6 else []
    return (elders + adults + kids)[:5]


# household kind -> (share of households, member builder)
_KINDS: dict[str, tuple[float, Callable[[random.Random], list[Member]]]] = {
    "single_elderly": (22.0, lambda r: [(_older_sex(r), min(98, 65 + int(r.expovariate(1 / 11))))]),
    "single_adult": (17.0, lambda r: [(r.choice("MF"), r.randint(20, 64))]),
    "elderly_couple": (16.0, lambda r: _couple(r, 67, 90)),
    "elderly_with_child": (
        6.0,
        lambda r: [(_older_sex(r), r.randint(72, 95)), (r.choice("MF"), r.randint(40, 64))],
    ),
    "couple": (13.0, lambda r: _couple(r, 26, 64)),
    "family": (22.0, _family),
    "three_generations": (6.0, _three_generations),
}


def _birth(rng: random.Random, age: int, on: datetime.date) -> datetime.date:
    latest = on.replace(year=on.year - age) if (on.month, on.day) != (2, 29) else on - datetime.timedelta(1)
    return latest - datetime.timedelta(days=rng.randrange(365))


def _address(rng: random.Random, town: str, apartment: bool) -> Address:
    chome = rng.randint(1, TOWNS[town][1])
    building, room = ("", 0)
    if apartment:
        building, room = rng.choice(_BUILDINGS), rng.randint(1, 4) * 100 + rng.randint(1, 8)
    return Address(PREFECTURE, CITY, town, chome, rng.randint(1, 28), rng.randint(1, 20), building, room)


def _phone(rng: random.Random, mobile: bool) -> str:
    if mobile:
        return f"{rng.choice(('090', '080', '070'))}-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
    return f"046-{rng.randint(200, 299)}-{rng.randint(1000, 9999)}"


def _household(
    rng: random.Random,
    pool: NamePool,
    start: datetime.date,
    members: list[Member],
    hid: str,
    ids: list[str],
    elderly_alone: bool,
) -> list[Person]:
    town = rng.choice(sorted(TOWNS))
    address = _address(rng, town, rng.random() < (0.45 if elderly_alone else 0.3))
    family = pool.family_name(rng)
    landline = _phone(rng, mobile=False)
    people = []
    for sex, age in members:
        birth = _birth(rng, age, start)
        given = pool.given_name(rng, sex, birth.year)
        name = Name(family[0], given[0], family[1], given[1])
        phone = landline if age >= 60 or rng.random() < 0.3 else _phone(rng, mobile=True)
        rid = ids.pop()
        moved_in = max(birth, start - datetime.timedelta(days=rng.randint(30, max(31, (start - birth).days))))
        registered = birth if rng.random() < 0.25 else moved_in
        people.append(Person(rid, rid, name, sex, birth, address, TOWNS[town][0], hid, phone, registered))
    return people


def _namesakes(
    rng: random.Random,
    residents: dict[str, Person],
    households: dict[str, tuple[str, ...]],
    start: datetime.date,
    pairs: int,
) -> tuple[tuple[str, str], ...]:
    singles = [hh[0] for _hid, hh in sorted(households.items()) if len(hh) == 1]
    elderly = [r for r in singles if age_on(residents[r].birth, start) >= 65]
    found: list[tuple[str, str]] = []
    used: set[str] = set()
    for i in range(pairs):
        source = [r for r in (elderly if i == 0 else singles) if r not in used]
        a = rng.choice(source)
        same_sex = [r for r in source if r != a and residents[r].sex == residents[a].sex]
        b = rng.choice(same_sex)
        residents[b] = replace(residents[b], name=residents[a].name)
        used.update((a, b))
        found.append((min(a, b), max(a, b)))
    return tuple(sorted(found))


def build_town(rng: random.Random, residents: int, start: datetime.date) -> Town:
    """Draw households until the town has exactly `residents` people; add outsiders and namesakes."""
    pool = load_name_pool()
    kinds = sorted(_KINDS)
    weights = [_KINDS[k][0] for k in kinds]
    ids = [f"{n:010d}" for n in rng.sample(range(1_000_000, 99_999_999), residents)]
    hids = [f"H{n:07d}" for n in rng.sample(range(1, 9_999_999), residents)]
    people: dict[str, Person] = {}
    households: dict[str, tuple[str, ...]] = {}
    while ids:
        kind = rng.choices(kinds, weights=weights, k=1)[0]
        members = _KINDS[kind][1](rng)
        if len(members) > len(ids):
            kind, members = "single_elderly", _KINDS["single_elderly"][1](rng)
        hid = hids.pop()
        made = _household(rng, pool, start, members, hid, ids, kind == "single_elderly")
        people.update((p.resident_id, p) for p in made)
        households[hid] = tuple(p.resident_id for p in made)
    namesakes = _namesakes(rng, people, households, start, max(2, residents // 500))
    outsiders: dict[str, Person] = {}
    for i in range(max(4, residents // 150)):
        town = rng.choice(_NEIGHBOUR[2])
        address = Address(
            _NEIGHBOUR[0], _NEIGHBOUR[1], town, rng.randint(1, 3), rng.randint(1, 28), rng.randint(1, 20)
        )
        made = _household(rng, pool, start, [(_older_sex(rng), rng.randint(66, 92))], "", [f"X{i:03d}"], True)
        outsiders[f"X{i:03d}"] = replace(made[0], resident_id="", address=address, district_code="")
    return Town(dict(sorted(people.items())), households, outsiders, namesakes)
