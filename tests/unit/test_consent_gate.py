from __future__ import annotations

import datetime as dt

import pytest

from consent.book import Consent, ConsentBook

pytestmark = pytest.mark.unit
D = dt.date


def book() -> ConsentBook:
    return ConsentBook(
        [
            Consent("C1", "r1", frozenset({"*"}), frozenset({"*"}), D(2026, 1, 1), D(2027, 1, 1), None),
            Consent(
                "C2", "r2", frozenset({"kanda-coop"}), frozenset({"delivery"}), D(2026, 1, 1), None, None
            ),
            Consent("C3", "r3", frozenset({"*"}), frozenset({"*"}), D(2026, 1, 1), None, D(2026, 11, 10)),
            Consent("C4", "r4", frozenset({"*"}), frozenset({"*"}), D(2026, 1, 1), D(2026, 11, 5), None),
            Consent("C5", "r5", frozenset({"*"}), frozenset({"*"}), D(2026, 12, 1), None, None),
        ]
    )


@pytest.mark.parametrize(
    ("resident", "partner", "sector", "day", "expected"),
    [
        ("r1", "midori-denki", "utility", D(2026, 11, 20), ("C1", None)),
        ("r2", "kanda-coop", "delivery", D(2026, 11, 20), ("C2", None)),
        ("r2", "midori-denki", "utility", D(2026, 11, 20), (None, "out_of_scope")),
        ("r3", "kanda-coop", "delivery", D(2026, 11, 9), ("C3", None)),
        ("r3", "kanda-coop", "delivery", D(2026, 11, 10), (None, "withdrawn")),
        ("r4", "kanda-coop", "delivery", D(2026, 11, 5), ("C4", None)),
        ("r4", "kanda-coop", "delivery", D(2026, 11, 6), (None, "expired")),
        ("r5", "kanda-coop", "delivery", D(2026, 11, 20), (None, "before_grant")),
        ("nobody", "kanda-coop", "delivery", D(2026, 11, 20), (None, "no_consent")),
    ],
)
def test_gate_gives_the_consent_or_the_reason(resident, partner, sector, day, expected):
    assert book().check(resident, partner, sector, day) == expected


def test_in_force_ignores_scope_and_respects_dates():
    b = book()
    assert b.in_force("r2", D(2026, 11, 20)) == "C2"
    assert b.in_force("r3", D(2026, 11, 20)) is None
    assert b.residents() == {"r1", "r2", "r3", "r4", "r5"}
