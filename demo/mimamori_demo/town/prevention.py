"""Prevention cases planted beside the main scenarios, more often than a town would have them.

- bereavement with and without an insurer partner (no death claim ever arrives without one);
- declines, one kind of which shows only in money and at the clinic (no deliveries, no meters);
- a newcomer aged 65+ living alone, moved in shortly before the period;
- a long-unchanged one-person household that no partner sees at all.

The cases draw from their own random stream, so the rest of a town stays as it was for a seed.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import replace
from typing import Any

from mimamori_demo.town.lives import Life, Timeline
from mimamori_demo.town.population import Town, age_on
from mimamori_demo.town.scenarios import Cast, bereave

__all__ = ["plant_prevention"]

# case -> residents per case (at least one each)
_PER_CASE = {"bereavement": 200, "decline": 200, "money_clinic": 200, "move_in": 200, "unseen": 200}
LONG_YEARS = 20  # an unseen case has lived in the same household at least this long


def _free_singles(town: Town, cast: Cast, tl: Timeline) -> list[str]:
    taken = set(cast.lives) | set(cast.expiring) | cast.unconsenting | {cast.new_grant}
    return sorted(
        m[0]
        for m in town.households.values()
        if len(m) == 1 and m[0] not in taken and age_on(town.residents[m[0]].birth, tl.start) >= 65
    )


def _decline(rng: random.Random, tl: Timeline, variant: str) -> tuple[Life, dict[str, Any]]:
    first = rng.randint(0, max(0, tl.days // 4))
    life = Life("decline", decline_from=first, decline_days=max(1, tl.days - first), variant=variant)
    half = life.decline_reaches(0.5, tl.days)
    assert half is not None
    facts = {
        "decline_from": tl.date(first).isoformat(),
        "should_be_listed_from": tl.run_date(half).isoformat(),
    }
    return life, facts


def _registered(town: Town, rid: str, on: datetime.date) -> None:
    town.residents[rid] = replace(town.residents[rid], registered_on=max(on, town.residents[rid].birth))


def plant_prevention(seed: int, town: Town, cast: Cast, tl: Timeline) -> None:
    """Add the prevention cases to the cast (and newcomers' or old-timers' register dates to the town)."""
    rng = random.Random(f"{seed}:prevention")
    n = len(town.residents)
    count = {case: max(1, n // per) for case, per in _PER_CASE.items()}
    ages = {rid: age_on(p.birth, tl.start) for rid, p in town.residents.items()}
    for rid, life in cast.lives.items():  # the main scenarios' bereaved all have an insurer
        if life.scenario == "bereavement":
            cast.facts[rid]["variant"] = "insurer"
    taken = set(cast.lives) | set(cast.register_changes)
    couples = sorted(
        h
        for h, m in town.households.items()
        if len(m) == 2 and min(ages[r] for r in m) >= 65 and not taken & set(m)
    )
    for i, hid in enumerate(rng.sample(couples, min(len(couples), count["bereavement"]))):
        bereave(rng, town, tl, cast, hid)
        survivor = next(r for r in town.households[hid] if r in cast.lives)
        variant = "no_insurer" if i % 2 == 0 else "insurer"
        cast.lives[survivor] = replace(cast.lives[survivor], variant="" if variant == "insurer" else variant)
        cast.facts[survivor] |= {"variant": variant, "expected_tier": "watch"}
    singles = _free_singles(town, cast, tl)
    rng.shuffle(singles)
    for variant in ("decline", "money_clinic"):
        for _ in range(min(count[variant], len(singles))):  # a small town plants what fits
            rid = singles.pop()
            cast.lives[rid], facts = _decline(rng, tl, "" if variant == "decline" else variant)
            cast.facts[rid] = {**facts, "variant": variant, "expected_tier": "high"}
    for scenario in ("move_in", "unseen"):
        for _ in range(min(count[scenario], len(singles))):
            rid = singles.pop()
            if scenario == "move_in":
                _registered(town, rid, tl.start - datetime.timedelta(days=rng.randint(0, 14)))
                cast.lives[rid] = Life("move_in")
            else:
                years = rng.randint(LONG_YEARS, 40)
                _registered(town, rid, tl.start - datetime.timedelta(days=365 * years))
                cast.lives[rid] = Life("unseen", variant="no_feed")
            cast.facts[rid] = {
                "register_shows_on": tl.start.isoformat(),
                "registered_on": town.residents[rid].registered_on.isoformat(),
                "needs_support": rng.random() < 0.5,
                "expected_tier": "watch",
            }
    for facts in cast.facts.values():
        facts.setdefault("should_be_listed_from", None)
        facts.setdefault("should_be_listed_until", None)
