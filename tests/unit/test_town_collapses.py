"""Evaluation towns plant collapses at every hour in turn, with the hard variants, and one outage."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from mimamori_demo.town.collapses import ELECTRICITY, outages
from mimamori_demo.town.lives import Timeline
from mimamori_demo.town.population import build_town
from mimamori_demo.town.scenarios import cast_scenarios

pytestmark = pytest.mark.unit
TL = Timeline(dt.date(2026, 11, 1), 14)


@pytest.fixture(scope="module")
def town():
    return build_town(random.Random(1), 800, TL.start)


def collapses(cast):
    return sorted((life.down_at, life.variant) for life in cast.lives.values() if life.scenario == "collapse")


def test_an_evaluation_town_covers_every_hour_and_every_variant_with_one_outage(town):
    cast = cast_scenarios(random.Random(2), town, TL, collapse_per=40)
    found = collapses(cast)
    assert len(found) == 20
    assert len({at.hour for at, _ in found}) == 18  # 05:00 to 22:59, each hour at least once
    assert {v for _, v in found} == {"standard", "weak_rhythm", "water_only", "outage_next_day"}
    (down,) = [at for at, v in found if v == "outage_next_day"]
    assert outages(cast.lives, TL) == ((ELECTRICITY, (down.date() - TL.start).days + 1),)


def test_an_ordinary_town_plants_only_standard_collapses(town):
    cast = cast_scenarios(random.Random(2), town, TL)
    assert {v for _, v in collapses(cast)} == {"standard"}
    assert outages(cast.lives, TL) == ()
