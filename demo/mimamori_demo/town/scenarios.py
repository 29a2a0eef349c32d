"""Who in the town has which story, when it happens, and what a good watchlist should do about it."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mimamori_demo.town.collapses import FIRST_HOUR, LAST_HOUR, VARIANTS, collapse_case
from mimamori_demo.town.lives import Life, Timeline, jst_iso
from mimamori_demo.town.population import Town, age_on
from warehouse.errors import InputError

__all__ = ["SCENARIOS", "Cast", "bereave", "cast_scenarios"]

SCENARIOS = ("collapse", "hospital_stay", "trip", "decline", "bereavement", "move_in", "unseen", "withdrawal")
# scenario -> residents per case (at least one case each)
_PER_CASE = {"collapse": 400, "hospital_stay": 500, "trip": 500, "decline": 500, "bereavement": 1000}
_EXPECTED_TIER = {"collapse": "urgent", "decline": "high", "bereavement": "watch"}

Facts = dict[str, Any]


@dataclass
class Cast:
    """Scenario residents, their lives, register changes and consent roles, plus truth facts."""

    lives: dict[str, Life] = field(default_factory=dict)
    facts: dict[str, Facts] = field(default_factory=dict)
    register_changes: dict[str, tuple[str, int]] = field(default_factory=dict)
    new_grant: str = ""
    expiring: list[str] = field(default_factory=list)
    unconsenting: set[str] = field(default_factory=set)


def _hospital(rng: random.Random, tl: Timeline, i: int) -> tuple[Life, Facts]:
    day = rng.randint(1, max(1, tl.days // 2)) if tl.days > 1 else 0
    admitted = tl.at(day, rng.randint(7 * 60, 20 * 60) / 60)
    discharged = tl.at(day + rng.randint(3, 8), rng.randint(10 * 60, 15 * 60) / 60)
    facts = {
        "admitted_at": jst_iso(admitted),
        "discharged_at": jst_iso(discharged),
        "explained_by_insurer_from": tl.run_date(min(day + 1, tl.days - 1)).isoformat(),
    }
    return Life("hospital_stay", away_from=admitted, away_until=discharged, away_kind="hospital"), facts


def _trip(rng: random.Random, tl: Timeline, i: int) -> tuple[Life, Facts]:
    day = rng.randint(1, max(1, tl.days - 3)) if tl.days > 1 else 0
    leaves = tl.at(day, rng.randint(7 * 60, 11 * 60) / 60)
    returns = tl.at(day + rng.randint(2, 4), rng.randint(14 * 60, 19 * 60) / 60)
    facts = {
        "trip_from": jst_iso(leaves),
        "trip_until": jst_iso(returns),
        "notified_on": tl.date(day - rng.randint(1, 3)).isoformat(),
    }
    return Life("trip", away_from=leaves, away_until=returns, away_kind="trip"), facts


def _decline(rng: random.Random, tl: Timeline, i: int) -> tuple[Life, Facts]:
    first = rng.randint(0, max(0, tl.days // 4))
    life = Life("decline", decline_from=first, decline_days=max(1, tl.days - first))
    half = life.decline_reaches(0.5, tl.days)
    assert half is not None  # a decline always reaches 1 on the last day
    facts = {
        "decline_from": tl.date(first).isoformat(),
        "should_be_listed_from": tl.run_date(half).isoformat(),
    }
    return life, facts


_BUILDERS: dict[str, Callable[[random.Random, Timeline, int], tuple[Life, Facts]]] = {
    "collapse": lambda rng, tl, i: collapse_case(rng, tl, i, FIRST_HOUR),  # cast_scenarios turns the hours
    "hospital_stay": _hospital,
    "trip": _trip,
    "decline": _decline,
}


def bereave(rng: random.Random, town: Town, tl: Timeline, cast: Cast, hid: str) -> None:
    survivor, spouse = rng.sample(sorted(town.households[hid]), 2)
    died = rng.randint(min(1, tl.extract_step - 1), tl.extract_step - 1)
    claim = min(died + rng.randint(2, 4), tl.days - 1)
    shows = tl.first_extract_after(died)
    assert shows is not None  # the death is always before the second extract
    listed = max(tl.date(shows), tl.run_date(claim))
    cast.lives[survivor] = Life("bereavement", claim_day=claim, alone_from=died + 1)
    cast.register_changes[spouse] = ("deceased", died)
    cast.unconsenting.add(spouse)
    cast.facts[survivor] = {
        "spouse_resident_id": spouse,
        "spouse_died_on": tl.date(died).isoformat(),
        "spouse_death_claim_on": tl.date(claim).isoformat(),
        "register_shows_on": tl.date(shows).isoformat(),
        "should_be_listed_from": listed.isoformat(),
    }


def cast_scenarios(rng: random.Random, town: Town, tl: Timeline, collapse_per: int | None = None) -> Cast:
    """Pick scenario residents among single people aged 65+ (and elderly couples) and time their stories.

    `collapse_per`: residents per collapse case (default one in 400); an evaluation that sets it plants more,
    with the hard variants (weak rhythm, water only, an outage the next day).
    """
    n = len(town.residents)
    per_case = {**_PER_CASE, "collapse": collapse_per or _PER_CASE["collapse"]}
    first_hour = rng.randint(FIRST_HOUR, LAST_HOUR)
    variants = VARIANTS if collapse_per else ("standard",)  # the hard variants in evaluation towns
    builders = {**_BUILDERS, "collapse": lambda r, t, i: collapse_case(r, t, i, first_hour, variants)}
    ages = {rid: age_on(p.birth, tl.start) for rid, p in town.residents.items()}
    singles = sorted(m[0] for m in town.households.values() if len(m) == 1 and ages[m[0]] >= 65)
    couples = sorted(h for h, m in town.households.items() if len(m) == 2 and min(ages[r] for r in m) >= 65)
    expiring = 1 if n < 1000 else 2
    wanted = sum(max(1, n // per_case[s]) for s in builders) + 2 + expiring
    if len(singles) < wanted or not couples:
        raise InputError(f"a town of {n} residents is too small for every scenario; use at least 200")
    rng.shuffle(singles)
    cast = Cast()
    for scenario, build in builders.items():
        for i in range(max(1, n // per_case[scenario])):
            rid = singles.pop()
            cast.lives[rid], cast.facts[rid] = build(rng, tl, i)
    for hid in rng.sample(couples, min(len(couples), max(1, n // _PER_CASE["bereavement"]))):
        bereave(rng, town, tl, cast, hid)
    withdrawing = singles.pop()
    cast.lives[withdrawing], cast.facts[withdrawing] = Life("withdrawal"), {}
    cast.new_grant = singles.pop()
    cast.unconsenting.add(cast.new_grant)
    cast.expiring = sorted(singles.pop() for _ in range(expiring))
    _other_changes(rng, town, tl, cast, ages)
    for rid, life in cast.lives.items():
        facts = cast.facts[rid]
        facts.setdefault("should_be_listed_from", None)
        facts.setdefault("should_be_listed_until", None)
        facts["expected_tier"] = _EXPECTED_TIER.get(life.scenario)
    return cast


def _other_changes(rng: random.Random, town: Town, tl: Timeline, cast: Cast, ages: dict[str, int]) -> None:
    """One more death (an elder in a larger household) and one adult moving out of a family."""
    taken = set(cast.lives) | set(cast.register_changes)
    larger = sorted(h for h, m in town.households.items() if len(m) >= 3 and not taken & set(m))
    elders = [r for h in larger for r in town.households[h] if ages[r] >= 75]
    adults = [r for h in larger for r in town.households[h] if 20 <= ages[r] < 60]
    last = max(1, tl.days - 1)
    for status, people in (("deceased", elders), ("moved_out", adults)):
        if people:
            rid = rng.choice(people)
            cast.register_changes[rid] = (status, rng.randint(1, last))
            cast.unconsenting.add(rid)
