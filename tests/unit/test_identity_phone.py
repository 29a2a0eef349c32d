"""Phone number normalisation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from identity.phone import normalise_phone

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("03-1234-5678", "0312345678"),
        ("(03) 1234-5678", "0312345678"),
        ("03（1234）5678", "0312345678"),
        ("０３－１２３４－５６７８", "0312345678"),
        ("090ー1234ー5678", "09012345678"),
        ("090 1234 5678", "09012345678"),
        ("+81 90-1234-5678", "09012345678"),
        ("+81-3-1234-5678", "0312345678"),
        ("+81 (0)3 1234 5678", "0312345678"),
        ("＋８１　９０　１２３４　５６７８", "09012345678"),
        ("0120-123-456", "0120123456"),
        ("", ""),
        (None, ""),
        ("   ", ""),
    ],
)
def test_examples(raw: str | None, expected: str) -> None:
    assert normalise_phone(raw) == expected


@given(st.text())
def test_keeps_only_ascii_digits(raw: str) -> None:
    assert all(ch in "0123456789" for ch in normalise_phone(raw))


@given(
    st.lists(st.text(alphabet="0123456789", min_size=1, max_size=4), min_size=1, max_size=4),
    st.sampled_from(["-", " ", "－", "ー", ")", "（", "\u3000", ""]),
)
def test_punctuation_does_not_change_the_digits(groups: list[str], separator: str) -> None:
    assert normalise_phone(separator.join(groups)) == "".join(groups)
