"""Electricity (every 30 minutes) and water (daily) readings, generated for all customers at once."""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from mimamori_demo.town.customers import Customer
from mimamori_demo.town.lives import NORMAL, Life, Timeline
from mimamori_demo.town.partners import PartnerSpec

__all__ = ["Feed", "electricity_feed", "water_feed"]

Feed = Callable[[int], list[list[str]]]  # day -> data rows in column order
Array = npt.NDArray[np.float64]
_SLOTS = 48
_HOURS = np.arange(_SLOTS) / 2 + 0.25  # middle of each half hour


def _absent(
    customers: list[Customer], lives: dict[str, Life], tl: Timeline
) -> dict[int, npt.NDArray[np.bool_]]:
    """Per customer index with a story: a (day, slot) mask of half hours with nobody active at home."""
    masks = {}
    for i, c in enumerate(customers):
        life = lives.get(c.key, NORMAL)
        if life.down_at is None and life.away_from is None:
            continue
        states = [[life.state(tl.at(d, s / 2)) != "home" for s in range(_SLOTS)] for d in range(tl.days)]
        masks[i] = np.array(states, dtype=bool)
    return masks


def _vigour(customers: list[Customer], lives: dict[str, Life], tl: Timeline) -> Array:
    """(customer, day) factor on activity: 1 normally, down to 0.5 at the end of a decline."""
    decline = [[lives.get(c.key, NORMAL).decline(d) for d in range(tl.days)] for c in customers]
    return 1.0 - 0.5 * np.array(decline, dtype=np.float64).reshape(len(customers), tl.days)


def _occupancy(customers: list[Customer], lives: dict[str, Life], tl: Timeline) -> Array:
    """(customer, day) usage scale for the household size; a bereaved spouse's home drops to one person."""
    scale = np.array([[c.scale] * tl.days for c in customers], dtype=np.float64).reshape(
        len(customers), tl.days
    )
    for i, c in enumerate(customers):
        alone_from = lives.get(c.key, NORMAL).alone_from
        if alone_from is not None:
            scale[i, alone_from:] = 1.0
    return scale


def _electricity(
    g: np.random.Generator, customers: list[Customer], lives: dict[str, Life], tl: Timeline
) -> Array:
    """kWh per (customer, day, half hour): low at night, peaks morning and evening, flat when absent."""
    n, days = len(customers), tl.days
    base = g.uniform(0.03, 0.07, n)
    wake, bed = g.uniform(5.5, 7.5, n)[:, None], g.uniform(21.0, 23.5, n)[:, None]
    hours = _HOURS[None, :]
    awake = (hours >= wake) & (hours < bed)
    morning = g.uniform(0.12, 0.3, (n, 1)) * np.exp(-((_HOURS - wake - 1.0) ** 2) / 0.5)
    evening = g.uniform(0.2, 0.45, (n, 1)) * np.exp(-((_HOURS - 19.5) ** 2) / 4.5)
    activity = g.uniform(0.04, 0.1, (n, 1)) * awake + morning + evening
    spikes = (
        (g.random((n, days, _SLOTS)) < 0.05) * awake[:, None, :] * g.uniform(0.15, 0.6, (n, days, _SLOTS))
    )
    vigour = _vigour(customers, lives, tl)[:, :, None]
    usage = base[:, None, None] * g.normal(1.0, 0.04, (n, days, _SLOTS))
    usage += (activity[:, None, :] * g.lognormal(0.0, 0.3, (n, days, _SLOTS)) + spikes) * vigour
    usage *= _occupancy(customers, lives, tl)[:, :, None]
    _evenings_out(g, customers, lives, usage, base, bed[:, 0])
    cycling = _cycling(g, customers, lives, days)
    usage = np.where(np.isnan(cycling), usage, 0.5 * usage + np.nan_to_num(cycling))
    for i, mask in _absent(customers, lives, tl).items():
        life = lives[customers[i].key]
        heater = g.uniform(0.55, 0.65) if life.flat == "high" else 0.0  # a heater or light left on
        flat = (base[i] + heater) * g.normal(1.0, 0.02, (days, _SLOTS))
        if not np.isnan(cycling[i]).all():  # the cycling appliance goes on after a collapse
            flat = 0.5 * flat + cycling[i]
        usage[i][mask] = flat[mask]
    return np.clip(usage, 0.0, None)


_WEAK_SHARE = 0.03  # ordinary residents whose use is dominated by an appliance cycling day and night
_EVENING_OUT = 0.04  # chance of an evening out, per ordinary resident and day


def _cycling(g: np.random.Generator, customers: list[Customer], lives: dict[str, Life], days: int) -> Array:
    """(customer, day, half hour) use of a thermostat heater cycling on and off; NaN for most customers.

    It makes the daily rhythm too weak to read: half-hours change as much at night as by day.
    """
    out = np.full((len(customers), days, _SLOTS), np.nan)
    chosen = g.random(len(customers)) < _WEAK_SHARE
    for i, c in enumerate(customers):
        if chosen[i] or lives.get(c.key, NORMAL).variant == "weak_rhythm":
            power = g.uniform(0.12, 0.2)
            out[i] = power * (g.random((days, _SLOTS)) < 0.5) * g.normal(1.0, 0.05, (days, _SLOTS))
    return out


def _evenings_out(
    g: np.random.Generator,
    customers: list[Customer],
    lives: dict[str, Life],
    usage: Array,
    base: Array,
    bed: Array,
) -> None:
    """Now and then an ordinary resident is out from late afternoon to late evening: lights off, back home.

    Coming home shows (a light on for a while), even past the usual bedtime.
    """
    n, days = usage.shape[:2]
    out = g.random((n, days)) < _EVENING_OUT
    leave = g.uniform(15.0, 19.0, (n, days))
    back = np.maximum(leave + 2.0, g.uniform(20.0, 23.5, (n, days)))
    for i, d in zip(*np.nonzero(out), strict=True):
        if lives.get(customers[i].key, NORMAL) is not NORMAL:
            continue
        first, last = int(leave[i, d] * 2), min(int(back[i, d] * 2), _SLOTS - 1)
        usage[i, d, first:last] = base[i] * g.normal(1.0, 0.04, last - first)
        usage[i, d, last : last + 2] += g.uniform(0.15, 0.3) if back[i, d] > bed[i] else 0.0


def _water(g: np.random.Generator, customers: list[Customer], lives: dict[str, Life], tl: Timeline) -> Array:
    """m3 per (customer, day), scaled by the share of waking hours someone was active at home."""
    n = len(customers)
    mean = g.uniform(0.15, 0.28, (n, 1)) * _occupancy(customers, lives, tl)
    present = np.ones((n, tl.days))
    for i, mask in _absent(customers, lives, tl).items():
        present[i] = 1.0 - mask[:, 12:46].mean(axis=1)
    usage = (
        mean * g.lognormal(0.0, 0.15, (n, tl.days)) * present * (0.4 + 0.6 * _vigour(customers, lives, tl))
    )
    return usage + g.uniform(0.0, 0.002, (n, tl.days))


def _billing(rng: random.Random, life: Life, tl: Timeline) -> list[tuple[int, str]]:
    """(day, event) billing notices: a decline falls behind on payments; a few others are just late."""
    found = [(d, "payment_overdue") for d in range(tl.days) if rng.random() < 0.0015]
    for level, event in ((0.5, "payment_overdue"), (0.9, "supply_stop_notice")):
        reached = life.decline_reaches(level, tl.days)
        found += [(reached, event)] if reached is not None else []
    return found


def electricity_feed(
    rng: random.Random,
    g: np.random.Generator,
    spec: PartnerSpec,
    customers: list[Customer],
    lives: dict[str, Life],
    tl: Timeline,
) -> Feed:
    """48 half-hour readings per customer and day, then that day's billing rows."""
    usage = _electricity(g, customers, lives, tl)
    billing: dict[int, list[list[str]]] = {}
    for c in customers:
        for day, event in _billing(rng, lives.get(c.key, NORMAL), tl):
            row = [
                *c.identity,
                "electricity",
                c.habits.meter_id,
                "billing",
                "",
                "",
                "",
                "",
                tl.date(day).isoformat(),
            ]
            billing.setdefault(day, []).append([*row, event])

    def rows(day: int) -> list[list[str]]:
        bounds = [tl.at(day, s / 2).strftime(spec.time_format) for s in range(_SLOTS + 1)]
        values = [f"{v:.3f}" for v in usage[:, day, :].ravel().tolist()]
        out = [
            [
                *c.identity,
                "electricity",
                c.habits.meter_id,
                "reading",
                bounds[s],
                bounds[s + 1],
                values[i * _SLOTS + s],
                "kWh",
                "",
                "",
            ]
            for i, c in enumerate(customers)
            for s in range(_SLOTS)
        ]
        return out + billing.get(day, [])

    return rows


def water_feed(
    g: np.random.Generator, spec: PartnerSpec, customers: list[Customer], lives: dict[str, Life], tl: Timeline
) -> Feed:
    """One daily reading per customer, period midnight to midnight, timestamps as the partner writes them."""
    usage = _water(g, customers, lives, tl)

    def rows(day: int) -> list[list[str]]:
        start, end = (tl.at(d, 0.0).strftime(spec.time_format) for d in (day, day + 1))
        return [
            [
                *c.identity,
                "water",
                c.habits.meter_id,
                "reading",
                start,
                end,
                f"{usage[i, day]:.3f}",
                "m3",
                "",
                "",
            ]
            for i, c in enumerate(customers)
        ]

    return rows
