"""The generic field-weighted linker: levels, swapped fields, blocking, and decisions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from identity.address import normalise_address
from identity.scoring import (
    LINK,
    NO_MATCH,
    REVIEW,
    Comparison,
    Linker,
    Schema,
    near_date,
    near_edit,
    near_jaro_winkler,
    score,
)

pytestmark = pytest.mark.unit


@dataclass(frozen=True)
class Person:
    given: str
    family: str
    born: dt.date | None
    street: str


SCHEMA = Schema(
    comparisons=(
        Comparison("given", 4.0, 2.0, -2.0, near_jaro_winkler(0.88), "family"),
        Comparison("family", 5.0, 2.5, -3.0, near_jaro_winkler(0.88), "given"),
        Comparison("born", 6.0, 3.0, -4.0, near_date),
        Comparison("street", 3.0, 1.0, -1.0, near_edit),
    ),
    blocks=(("family",), ("born",)),
    link_at=12.0,
    review_at=7.0,
    margin=3.0,
)
ANNA = Person("anna", "smith", dt.date(1950, 3, 4), "12 high street")


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        (ANNA, 18.0),
        (Person("smith", "anna", dt.date(1950, 3, 4), "12 high street"), 18.0),  # names swapped
        (Person("anne", "smith", dt.date(1950, 4, 3), "12 hihg street"), 11.0),  # slips everywhere
        (Person("anna", "smith", None, ""), 9.0),  # blanks count nothing
        (Person("bob", "jones", dt.date(1971, 1, 1), "9 low road"), -10.0),
    ],
)
def test_score_levels(other: Person, expected: float) -> None:
    assert score(SCHEMA, ANNA, other) == expected


def test_decisions_link_review_or_no_match() -> None:
    linker = Linker(SCHEMA, {"a": ANNA, "b": Person("ben", "smith", dt.date(1980, 1, 1), "3 low road")})
    assert linker.decide(Person("anna", "smith", dt.date(1950, 3, 4), "")).outcome == LINK
    assert linker.decide(Person("anna", "smith", None, "")).outcome == REVIEW
    assert (
        linker.decide(Person("zoe", "brown", dt.date(1999, 9, 9), "")).outcome == NO_MATCH
    )  # no shared block


def test_a_full_block_followed_by_a_building_named_like_a_town_stays_a_block() -> None:
    assert normalise_address("若葉町3-14-20市営住宅307").block == "3-14-20"
    assert normalise_address("若葉町三丁目十四番二十号市営住宅307").key == "若葉町 3-14-20"
    assert normalise_address("一番町1-2-3").town == "一番町"
