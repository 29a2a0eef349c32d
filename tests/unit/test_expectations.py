from __future__ import annotations

import json

import pandas as pd
import pytest

from expectations.validate import validate

pytestmark = pytest.mark.unit
RESIDENT = "k1:" + "0123456789abcdef" * 2


def good(sector: str = "delivery", event_type: str = "no_answer", kind: str = "event", value=None, unit=None):
    return pd.DataFrame(
        {
            "resident": [RESIDENT, RESIDENT],
            "partner_id": ["kanda-coop", "kanda-coop"],
            "sector": [sector, sector],
            "kind": [kind, kind],
            "event_type": [event_type, event_type],
            "event_start": pd.to_datetime(["2026-11-19 10:00", "2026-11-19 11:00"]),
            "event_end": pd.to_datetime([None, None]),
            "value": [value, value],
            "unit": [unit, unit],
            "consent_id": ["C2025-000001", "C2025-000001"],
        }
    )


@pytest.mark.parametrize(
    ("sector", "event_type", "kind", "value", "unit"),
    [
        ("delivery", "no_answer", "event", None, None),
        ("insurer", "spouse_death_claim", "event", None, None),
        ("clinic", "missed_appointment", "event", None, None),
        ("utility", "electricity", "reading", 0.4, "kWh"),
    ],
)
def test_known_good_frames_pass(sector, event_type, kind, value, unit):
    result = validate(good(sector, event_type, kind, value, unit), sector)
    assert result.success, result.failed


def test_a_leaked_identifier_fails_and_the_result_holds_no_value():
    frame = good()
    frame.loc[1, "resident"] = "ヤマダ　ハナコ"
    frame.loc[0, "consent_id"] = "045-123-4567"
    result = validate(frame, "delivery")
    assert not result.success
    assert "expect_column_values_to_match_regex(resident)" in result.failed
    assert "expect_column_values_to_not_match_regex_list(consent_id)" in result.failed
    text = json.dumps(result.failed, ensure_ascii=False)
    assert "ヤマダ" not in text and "045" not in text


@pytest.mark.parametrize(
    ("column", "value", "failed"),
    [
        ("event_type", "handed_over_twice", "expect_column_values_to_be_in_set(event_type)"),
        ("sector", "utility", "expect_column_values_to_be_in_set(sector)"),
    ],
)
def test_known_bad_frames_fail(column, value, failed):
    frame = good()
    frame.loc[0, column] = value
    assert failed in validate(frame, "delivery").failed


def test_absurd_utility_value_fails():
    frame = good("utility", "electricity", "reading", 0.4, "kWh")
    frame.loc[0, "value"] = 10_000.0
    assert "expect_column_values_to_be_between(value)" in validate(frame, "utility").failed


def test_an_extra_column_fails_the_shape():
    frame = good().assign(name_kana="ヤマダ")
    assert "expect_table_columns_to_match_set" in validate(frame, "delivery").failed


def test_failed_expectation_names_carry_no_value_even_for_a_leaked_name():
    frame = good()
    frame.loc[0, "event_type"] = "ヤマダハナコ"
    result = validate(frame, "delivery")
    assert not result.success and all("ヤマダ" not in name for name in result.failed)
