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
    Readings,
    Schema,
    near_date,
    near_edit,
    near_jaro_winkler,
    same,
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


@pytest.mark.parametrize(
    ("left", "right", "agree"),
    [
        (Readings(("198-11-405", "198-11")), Readings(("198-11",)), True),
        (Readings(("198-11",)), Readings(("198-11-405", "198-11")), True),
        # both only *might* be 198-11: two rooms (or two lots) are not the same place
        (Readings(("198-11-405", "198-11")), Readings(("198-11-406", "198-11")), False),
        (Readings(("1-2",)), Readings(("1-3",)), False),
        ("1-2", "1-2", True),
    ],
)
def test_readings_agree_when_the_written_one_is_a_reading_of_the_other(left, right, agree) -> None:
    assert same(left, right) is agree


def test_blocking_indexes_every_reading() -> None:
    @dataclass(frozen=True)
    class Place:
        name: str
        lot: Readings

    schema = Schema(
        comparisons=(Comparison("name", 5.0, 0.0, -5.0), Comparison("lot", 5.0, 0.0, -5.0)),
        blocks=(("lot",),),
        link_at=9.0,
        review_at=5.0,
        margin=3.0,
    )
    linker = Linker(schema, {"flat": Place("a", Readings(("198-11-405", "198-11")))})
    found = linker.decide(Place("a", Readings(("198-11",))))
    assert (found.outcome, found.resident) == (LINK, "flat")
    assert linker.decide(Place("a", Readings(("198-11-406", "198-11")))).outcome == NO_MATCH
