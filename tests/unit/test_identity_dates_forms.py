"""Birth-date forms that registers and partners write, read to the same day."""

from __future__ import annotations

from datetime import date

import pytest

from identity.dates import parse_birth_date
from identity.errors import InvalidIdentifier

pytestmark = pytest.mark.unit

TODAY = date(2026, 11, 1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("昭23/04/05", date(1948, 4, 5)),
        ("昭23.4.5", date(1948, 4, 5)),
        ("平3-12-1", date(1991, 12, 1)),
        ("S230405", date(1948, 4, 5)),
        ("s230405", date(1948, 4, 5)),
        ("T150201", date(1926, 2, 1)),
        ("3230405", date(1948, 4, 5)),  # legacy era code 3 = 昭和
        ("4011231", date(1989, 12, 31)),  # 4 = 平成
        ("昭和二十三年四月五日", date(1948, 4, 5)),
        ("大正十五年十二月二十五日", date(1926, 12, 25)),
        ("昭和23年04月05日生", date(1948, 4, 5)),
        ("1948年4月5日生まれ", date(1948, 4, 5)),
        ("1948-04-05T00:00:00", date(1948, 4, 5)),
        ("1948-04-05T00:00:00+09:00", date(1948, 4, 5)),
        ("1948/04/05 0:00:00", date(1948, 4, 5)),
        ("1948/4/5 00:00", date(1948, 4, 5)),
        ("昭和23年4月5日(月)", date(1948, 4, 5)),
    ],
)
def test_readable_forms(raw: str, expected: date) -> None:
    assert parse_birth_date(raw, today=TODAY) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("6230405", "unrecognised format"),  # no era has code 6
        ("S650101", "outside era range"),
        ("昭和六十五年一月一日", "outside era range"),
        ("1948-04-05T", "unrecognised format"),
        ("S23013", "unrecognised format"),
    ],
)
def test_unreadable_forms_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        parse_birth_date(raw, today=TODAY)
    assert refused.value.reason == reason
    assert raw not in str(refused.value)
