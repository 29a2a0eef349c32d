"""Contract timestamps: malformed and impossible values are refused as values, never as a crash."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from connectors.timeparse import parse_series, to_jst_naive

pytestmark = pytest.mark.unit

IMPOSSIBLE = [
    "9999-12-31T23:00:00-05:00",  # past year 9999 once in JST
    "0001-01-01T00:00:00+10:00",  # before year 1 once in JST
    "1899-12-31T23:59:59+09:00",
    "2200-01-01T00:00:00+09:00",
    "2026-11-31T00:00:00",
    "2026-11-01T25:00:00",
    "昼ごろ",
]


@pytest.mark.parametrize("value", IMPOSSIBLE)
def test_an_impossible_time_is_a_value_error(value: str) -> None:
    with pytest.raises(ValueError):
        to_jst_naive(value)


def test_a_column_of_impossible_times_parses_to_not_a_time() -> None:
    parsed = parse_series(pd.Series([*IMPOSSIBLE, "2026-11-01T10:00:00+00:00", "2026-11-01"]))
    assert parsed.isna().sum() == len(IMPOSSIBLE)
    assert parsed.dropna().tolist() == [pd.Timestamp("2026-11-01 19:00"), pd.Timestamp("2026-11-01")]


def test_offsets_become_japan_wall_time() -> None:
    assert to_jst_naive("2026-11-01T00:00:00-05:00") == dt.datetime(2026, 11, 1, 14)
