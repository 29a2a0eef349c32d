from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from expectations.validate import DATA_DOCS, SITE, _batches, _gx, _suite, expire_results, validate

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


# With a data home: a Checkpoint per sector, results named by delivery, kept for a period.


def test_one_definition_and_checkpoint_per_sector_and_results_named_by_delivery(tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    context = _gx(str(home)).context
    old = _gx(str(home)).gx.ValidationDefinition(
        data=_batches(str(home), "delivery"),
        suite=_suite(str(home), "delivery"),
        name="kanda-coop-20261031-01",
    )
    context.validation_definitions.add(old)  # as an earlier version made one per delivery
    bad = good()
    bad.loc[0, "event_type"] = "handed_over_twice"
    assert validate(good(), "delivery", home=home, name="kanda-coop-20261101-01").success
    assert not validate(bad, "delivery", home=home, name="kanda-coop-20261102-01").success
    assert validate(good("clinic", "missed_appointment"), "clinic", home=home, name="aoba-clinic-7").success

    assert sorted(p.stem for p in (home / "gx" / "validation_definitions").glob("*.json")) == [
        "mimamori_clinic",
        "mimamori_delivery",
    ]
    checkpoint = json.loads((home / "gx" / "checkpoints" / "mimamori_delivery.json").read_text())
    assert [a["type"] for a in checkpoint["actions"]] == ["update_data_docs"]
    keys = {key.to_tuple()[:2] + key.to_tuple()[-1:] for key in context.validation_results_store.list_keys()}
    assert keys == {
        ("mimamori_delivery", "kanda-coop-20261101-01", "mimamori-delivery"),
        ("mimamori_delivery", "kanda-coop-20261102-01", "mimamori-delivery"),
        ("mimamori_clinic", "aoba-clinic-7", "mimamori-clinic"),
    }
    index = (home / DATA_DOCS).read_text(encoding="utf-8")  # updated by the Checkpoints' action
    assert "kanda-coop-20261102-01" in index and "aoba-clinic-7" in index and "__none__" not in index
    stored = "".join(p.read_text() for p in (home / "gx" / "uncommitted" / "validations").rglob("*.json"))
    assert "handed_over_twice" not in stored  # BOOLEAN_ONLY: no value in any result


def test_results_past_their_period_are_deleted_with_their_pages(tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    validate(good(), "delivery", home=home, name="kanda-coop-20261101-01")
    between = dt.datetime.now(dt.UTC)
    validate(good(), "delivery", home=home, name="kanda-coop-20261102-01")
    assert expire_results(home, between - dt.timedelta(days=1)) == 0
    assert expire_results(home, between) == 1
    pages = {p.parent.parent.name for p in (home / SITE / "validations").rglob("*.html")}
    assert pages == {"kanda-coop-20261102-01"}
    assert "kanda-coop-20261101-01" not in (home / DATA_DOCS).read_text(encoding="utf-8")
    assert expire_results(tmp_path / "no-gx-here", between) == 0
