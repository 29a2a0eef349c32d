"""Collapse cases for evaluation: one at every hour from 05:00 to 22:00 in turn, with the hard variants.

- `standard`: electricity, water, deliveries and a clinic, as most watched residents have;
- `weak_rhythm`: electricity use dominated by an appliance cycling day and night (a thermostat heater),
  so the daily rhythm is too weak to read; it keeps cycling after the collapse;
- `water_only`: no electricity feed, only the water meter among the utilities;
- `outage_next_day`: the electricity partner's delivery of the day after the collapse never arrives.

Ordinary residents get the same habits now and then (a weak rhythm, an evening out), so the rules that
find these collapses also meet their look-alikes.
"""

from __future__ import annotations

import random

from mimamori_demo.town.lives import Life, Timeline, jst_iso

__all__ = ["ELECTRICITY", "VARIANTS", "collapse_case", "outages"]

ELECTRICITY = "midori-denki"
FIRST_HOUR, LAST_HOUR = 5, 22
# variants in turn; 7 is prime to the 18 hours, so every variant meets every hour over 126 cases
VARIANTS = ("standard", "weak_rhythm", "standard", "water_only", "standard", "outage_next_day", "standard")


def collapse_case(
    rng: random.Random, tl: Timeline, i: int, first_hour: int, variants: tuple[str, ...] = VARIANTS
) -> tuple[Life, dict[str, object]]:
    """The i-th collapse: the hours cycle from `first_hour` through 05:00-22:59, the variants in turn."""
    hours = LAST_HOUR - FIRST_HOUR + 1
    hour = FIRST_HOUR + (first_hour - FIRST_HOUR + i) % hours
    day = rng.randint(min(tl.days // 3, tl.days - 2), max(0, tl.days - 2))
    at = tl.at(day, hour + rng.randint(0, 59) / 60)
    flat = "low" if i % 2 == 0 else "high"
    variant = variants[i % len(variants)]
    if variant == "outage_next_day" and i >= len(variants):
        variant = "standard"  # one outage a town: a partner-wide outage also hides everyone else's day
    seen = day if at.hour < 12 else day + 1
    facts: dict[str, object] = {
        "collapse_at": jst_iso(at),
        "flat": flat,
        "kind": variant,
        "should_be_listed_from": tl.run_date(seen).isoformat(),
    }
    if variant == "outage_next_day":
        facts["outage"] = {"partner_id": ELECTRICITY, "period": tl.date(day + 1).isoformat()}
    return Life("collapse", down_at=at, flat=flat, variant=variant), facts


def outages(lives: dict[str, Life], tl: Timeline) -> tuple[tuple[str, int], ...]:
    """(partner, day) deliveries that never arrive: electricity the day after an outage-variant collapse."""
    found = set()
    for life in lives.values():
        if life.variant == "outage_next_day" and life.down_at is not None:
            day = (life.down_at.date() - tl.start).days + 1
            if day < tl.days:
                found.add((ELECTRICITY, day))
    return tuple(sorted(found))
