"""Daily partner deliveries with the messiness real feeds have: a late one, a missing one, duplicates."""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mimamori_demo.town.customers import Customer
from mimamori_demo.town.events import Rows, clinic_rows, delivery_rows, insurer_rows
from mimamori_demo.town.lives import Life, Timeline, jst_iso
from mimamori_demo.town.meters import Feed, electricity_feed, water_feed
from mimamori_demo.town.partners import PARTNERS, PartnerSpec
from mimamori_demo.town.writer import write_delivery

__all__ = ["DeliveryLog", "Mess", "build_feeds", "plan_mess", "write_deliveries"]

FeedBuilder = Callable[
    [random.Random, np.random.Generator, PartnerSpec, list[Customer], dict[str, Life], Timeline], Feed
]
_DUPLICATE_SHARE = 0.005
_DENSE = ("kanda-coop", "hikari-bento", "midori-denki", "minato-suido")


def _events(
    build: Callable[[random.Random, PartnerSpec, list[Customer], dict[str, Life], Timeline], Rows],
) -> FeedBuilder:
    def feed(
        rng: random.Random,
        g: np.random.Generator,
        spec: PartnerSpec,
        customers: list[Customer],
        lives: dict[str, Life],
        tl: Timeline,
    ) -> Feed:
        rows = build(rng, spec, customers, lives, tl)
        return lambda day: rows.get(day, [])

    return feed


_FEEDS: dict[str, FeedBuilder] = {
    "kanda-coop": _events(delivery_rows),
    "hikari-bento": _events(delivery_rows),
    "midori-denki": electricity_feed,
    "minato-suido": lambda rng, g, spec, customers, lives, tl: water_feed(g, spec, customers, lives, tl),
    "sakura-life": _events(insurer_rows),
    "aoba-clinic": _events(clinic_rows),
}


def build_feeds(
    seed_rng: random.Random, customers: dict[str, list[Customer]], lives: dict[str, Life], tl: Timeline
) -> dict[str, Feed]:
    """One row source per partner, each with its own random streams so partners do not disturb each other."""
    feeds = {}
    for spec in PARTNERS:
        rng = random.Random(seed_rng.getrandbits(64))
        g = np.random.default_rng(seed_rng.getrandbits(64))
        feeds[spec.id] = _FEEDS[spec.id](rng, g, spec, customers[spec.id], lives, tl)
    return feeds


@dataclass(frozen=True)
class Mess:
    """Which partner is late on which day, which one skips a day, and who sends duplicate rows."""

    late: tuple[str, int]
    missing: tuple[str, int]
    duplicating: tuple[str, ...]
    outages: tuple[tuple[str, int], ...] = ()  # (partner, day) deliveries that never arrive


def plan_mess(rng: random.Random, tl: Timeline, outages: tuple[tuple[str, int], ...] = ()) -> Mess:
    """Pick the late delivery, the missing day (different partners) and two partners that duplicate rows."""
    late, missing = rng.sample([p.id for p in PARTNERS], 2)
    first = 1 if tl.days > 1 else 0
    late_day = rng.randint(first, tl.days - 1)
    while (late, late_day) in outages:  # the late delivery must arrive
        late_day = late_day + 1 if late_day + 1 < tl.days else first
    return Mess(
        late=(late, late_day),
        missing=(missing, rng.randint(first, tl.days - 1)),
        duplicating=tuple(sorted(rng.sample(_DENSE, 2))),
        outages=outages,
    )


@dataclass
class DeliveryLog:
    """What was written: counts for the summary, duplicates for the truth file."""

    deliveries: int = 0
    rows: int = 0
    duplicates: dict[str, int] = field(default_factory=dict)
    late_created_at: str = ""


def _duplicate(rng: random.Random, rows: list[list[str]], at_least_one: bool) -> list[list[str]]:
    """Repeat about 0.5% of rows right after themselves, as a resent batch would."""
    count = int(len(rows) * _DUPLICATE_SHARE + rng.random())
    count = max(count, 1 if at_least_one and rows else 0)
    picks = set(rng.sample(range(len(rows)), min(count, len(rows))))
    return [copy for i, row in enumerate(rows) for copy in ([row, list(row)] if i in picks else [row])]


def _created_at(
    rng: random.Random, spec: PartnerSpec, tl: Timeline, day: int, late: bool
) -> datetime.datetime:
    """Normally a few hours after the period ends and before due_by; the late one 3h40 after due_by."""
    hours, minutes = (int(x) for x in spec.due_by.split(":"))
    due = tl.at(day + 1, hours + minutes / 60)
    if late:
        return due + datetime.timedelta(hours=3, minutes=40)
    return tl.at(day + 1, 1.0) + datetime.timedelta(minutes=rng.randint(0, (hours - 1) * 60 + minutes - 20))


def write_deliveries(
    home: Path,
    rng: random.Random,
    feeds: dict[str, Feed],
    mess: Mess,
    tl: Timeline,
    progress: Callable[[str, int, int], None],
) -> DeliveryLog:
    """Write every partner's delivery for every day except the missing one."""
    log = DeliveryLog(duplicates={pid: 0 for pid in mess.duplicating})
    for day in range(tl.days):
        for spec in PARTNERS:
            if mess.missing == (spec.id, day) or (spec.id, day) in mess.outages:
                continue
            rows = feeds[spec.id](day)
            if spec.id in mess.duplicating:
                before = len(rows)
                rows = _duplicate(rng, rows, at_least_one=log.duplicates[spec.id] == 0)
                log.duplicates[spec.id] += len(rows) - before
            created = _created_at(rng, spec, tl, day, late=mess.late == (spec.id, day))
            write_delivery(home / "inbox", spec, tl.at(day, 0.0), created, rows)
            if mess.late == (spec.id, day):
                log.late_created_at = jst_iso(created)
            log.deliveries += 1
            log.rows += len(rows)
        progress("deliveries", day + 1, tl.days)
    return log
