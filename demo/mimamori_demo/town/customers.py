"""Each partner's customer list: consented elders, some people who never consented, a few outsiders."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from mimamori_demo.town.collapses import ELECTRICITY
from mimamori_demo.town.consents import ConsentBook
from mimamori_demo.town.lives import NORMAL, Life, Timeline
from mimamori_demo.town.partners import IDENTIFIER_COLUMNS, PARTNERS, PartnerSpec
from mimamori_demo.town.population import Town, age_on
from mimamori_demo.town.scenarios import Cast
from mimamori_demo.town.variants import render_identity

__all__ = ["Customer", "Habits", "enroll"]

# partners a scenario resident is always a customer of, so the story shows in the feeds
_REQUIRED: dict[str, tuple[str, ...]] = {
    "collapse": ("kanda-coop", "hikari-bento", "midori-denki", "minato-suido", "aoba-clinic"),
    "hospital_stay": ("kanda-coop", "hikari-bento", "midori-denki", "minato-suido", "sakura-life"),
    "trip": ("kanda-coop", "hikari-bento", "midori-denki", "minato-suido"),
    "decline": ("kanda-coop", "hikari-bento", "midori-denki", "sakura-life", "aoba-clinic"),
    "bereavement": ("midori-denki", "sakura-life"),
    "withdrawal": ("kanda-coop", "midori-denki", "sakura-life", "aoba-clinic"),
    "new_grant": ("hikari-bento", "midori-denki", "minato-suido"),
    "no_insurer": ("midori-denki",),
    "money_clinic": ("sakura-life", "aoba-clinic"),
    "no_feed": (),
}
# partners a scenario variant is never a customer of (town.prevention, town.collapses): what its story lacks
_EXCLUDED: dict[str, frozenset[str]] = {
    "no_insurer": frozenset({"sakura-life"}),
    "money_clinic": frozenset({"kanda-coop", "hikari-bento", "midori-denki", "minato-suido"}),
    "no_feed": frozenset(p.id for p in PARTNERS),
    "water_only": frozenset({ELECTRICITY}),  # a collapse seen by water alone (town.collapses)
}


@dataclass(frozen=True)
class Habits:
    """What drives a customer's rows: meter, delivery weekdays and hours, appointment cycle."""

    meter_id: str = ""
    weekdays: tuple[int, ...] = ()
    slots: tuple[float, ...] = ()
    unattended: bool = False
    interval: int = 0
    offset: int = 0


@dataclass(frozen=True)
class Customer:
    """One partner's record of one person: identifier columns as the partner holds them, and habits."""

    key: str
    identity: tuple[str, ...]
    habits: Habits
    scale: float = 1.0

    @property
    def customer_id(self) -> str:
        """The partner's own stable id (never the resident id)."""
        return self.identity[0]


def _coop(rng: random.Random, life: Life, tl: Timeline) -> Habits:
    weekdays = tuple(sorted(rng.sample(range(6), 1 if rng.random() < 0.6 else 2)))
    return Habits(weekdays=weekdays, slots=(rng.uniform(9.5, 17.0),), unattended=rng.random() < 0.25)


def _meals(rng: random.Random, life: Life, tl: Timeline) -> Habits:
    lunch, dinner = rng.uniform(10.5, 12.5), rng.uniform(16.5, 18.0)
    return Habits(
        weekdays=tuple(range(7) if rng.random() < 0.7 else range(5)),
        slots=(lunch, dinner) if rng.random() < 0.3 else (lunch,),
    )


def _meter(prefix: str) -> Callable[[random.Random, Life, Timeline], Habits]:
    return lambda rng, life, tl: Habits(meter_id=f"{prefix}{rng.randint(1, 99_999_999):08d}")


def _clinic(rng: random.Random, life: Life, tl: Timeline) -> Habits:
    interval = rng.choice((14, 21, 28))
    offset = rng.randrange(interval)
    if life.down_at is not None:  # let the collapse meet an appointment inside the period
        offset = ((life.down_at.date() - tl.start).days + 1) % interval
    if life.decline_from is not None:
        offset = (life.decline_from + tl.days // 3) % interval
    return Habits(interval=interval, offset=offset, slots=(rng.uniform(9.0, 17.0),))


_HABITS: dict[str, Callable[[random.Random, Life, Timeline], Habits]] = {
    "kanda-coop": _coop,
    "hikari-bento": _meals,
    "midori-denki": _meter("M"),
    "minato-suido": _meter("WM"),
    "sakura-life": lambda rng, life, tl: Habits(),
    "aoba-clinic": _clinic,
}


def _members(
    rng: random.Random, spec: PartnerSpec, town: Town, cast: Cast, book: ConsentBook, others: list[str]
) -> list[str]:
    keys = []
    for rid in sorted(book.active_on_start()):
        life = cast.lives.get(rid, NORMAL)
        alone = len(town.households[town.residents[rid].household_id]) == 1
        if spec.id in _EXCLUDED.get(life.variant, ()):
            continue
        if spec.id in _REQUIRED.get(life.variant, _REQUIRED.get(life.scenario, ())) or rng.random() < (
            spec.reach_alone if alone else spec.reach_other
        ):
            keys.append(rid)
    keys += rng.sample(others, max(2, round(0.08 * len(keys))))
    if spec.id in _REQUIRED["new_grant"]:
        keys.append(cast.new_grant)
    keys += rng.sample(sorted(town.outsiders), rng.randint(1, min(3, len(town.outsiders))))
    return sorted(set(keys))


def enroll(
    rng: random.Random, town: Town, cast: Cast, book: ConsentBook, tl: Timeline
) -> dict[str, list[Customer]]:
    """Customer lists per partner id, each sorted by the partner's customer id."""
    consented = book.active_on_start()
    others = sorted(
        rid
        for rid, p in town.residents.items()
        if rid not in consented and rid not in cast.unconsenting and age_on(p.birth, tl.start) >= 60
    )
    lists: dict[str, list[Customer]] = {}
    for spec in PARTNERS:
        keys = _members(rng, spec, town, cast, book, others)
        numbers = rng.sample(range(10_000, 100_000), len(keys))
        customers = []
        for key, number in zip(keys, numbers, strict=True):
            person = town.person(key)
            life = cast.lives.get(key, NORMAL)
            identity = render_identity(rng, person, spec.style)
            size = len(town.households[person.household_id]) if person.resident_id else 1
            habits = _HABITS[spec.id](rng, life, tl)
            scale = 1.0 + 0.6 * (min(size, 4) - 1)
            columns = (spec.customer_id.format(number), *(identity[c] for c in IDENTIFIER_COLUMNS[1:]))
            customers.append(Customer(key, columns, habits, scale))
        lists[spec.id] = sorted(customers, key=lambda c: c.customer_id)
    return lists
