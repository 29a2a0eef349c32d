from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors import READY, REFUSED, WAITING, canonicalise, check_delivery, read_table
from connectors.canonical import FORMULA, RowHashes, _formula, _stripped
from connectors.delivery import Manifest
from connectors.registry import Partner, load_registry
from warehouse.errors import InputError

pytestmark = pytest.mark.unit

COOP = Partner(
    "kanda-coop",
    "かんだ生協",
    "delivery",
    "cp932",
    dt.time(6),
    "K-1",
    dt.date(2025, 4, 1),
    dt.date(2028, 3, 31),
    {"不在": "no_answer", "受渡済": "handed_over"},
)
POWER = Partner(
    "midori-denki",
    "みどり電力",
    "utility",
    "utf-8",
    dt.time(6),
    "K-2",
    dt.date(2025, 4, 1),
    dt.date(2028, 3, 31),
    {},
)
MANIFEST = Manifest(
    "kanda-coop",
    "delivery",
    "20261120-01",
    dt.datetime(2026, 11, 19),
    dt.datetime(2026, 11, 20),
    dt.datetime(2026, 11, 20, 4),
    (),
)
IDS = {
    "partner_customer_id": "C1",
    "name_kana": "ﾔﾏﾀﾞ ﾊﾅｺ",
    "name_kanji": "山田花子",
    "birth_date": "19450302",
    "address": "本町1-2-3",
    "phone": "045-000-0000",
}


def write_delivery(root: Path, partner: str, delivery: str, body: bytes, **overrides) -> Path:
    folder = root / "inbox" / partner / delivery
    folder.mkdir(parents=True)
    (folder / "events.csv").write_bytes(body)
    manifest = {
        "spec_version": "1",
        "partner_id": partner,
        "sector": "delivery",
        "delivery_id": delivery,
        "period_start": "2026-11-19T00:00:00+09:00",
        "period_end": "2026-11-20T00:00:00+09:00",
        "files": [
            {"name": "events.csv", "sha256": hashlib.sha256(body).hexdigest(), "rows": body.count(b"\n") - 1}
        ],
        "created_at": "2026-11-20T04:00:00+09:00",
    }
    manifest.update(overrides)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


BODY = (
    "partner_customer_id,name_kana,name_kanji,birth_date,address,phone,event_time,event_type\n"
    "C1,ﾔﾏﾀﾞ ﾊﾅｺ,山田花子,19450302,本町1-2-3,045,2026-11-19T10:00:00,不在\n".encode("cp932")
)


def test_a_complete_delivery_is_ready(tmp_path: Path):
    check = check_delivery(write_delivery(tmp_path, "kanda-coop", "d1", BODY), {"kanda-coop": COOP})
    assert check.status == READY and check.manifest is not None
    assert check.manifest.period_end == dt.datetime(2026, 11, 20)


def test_a_file_still_uploading_waits(tmp_path: Path):
    folder = write_delivery(tmp_path, "kanda-coop", "d1", BODY)
    (folder / "events.csv").write_bytes(BODY[:40])
    check = check_delivery(folder, {"kanda-coop": COOP})
    assert check.status == WAITING and "SHA-256" in (check.reason or "")


def test_no_manifest_waits(tmp_path: Path):
    folder = write_delivery(tmp_path, "kanda-coop", "d1", BODY)
    (folder / "manifest.json").unlink()
    assert check_delivery(folder, {"kanda-coop": COOP}).status == WAITING


def test_unknown_partner_and_expired_agreement_are_refused_with_reason(tmp_path: Path):
    stranger = write_delivery(tmp_path, "stranger", "d1", BODY, partner_id="stranger")
    check = check_delivery(stranger, {"kanda-coop": COOP})
    assert (check.status, check.reason) == (REFUSED, "unknown partner 'stranger': not in partners.yaml")
    late = write_delivery(
        tmp_path,
        "kanda-coop",
        "d2",
        BODY,
        delivery_id="d2",
        period_start="2029-01-01T00:00:00+09:00",
        period_end="2029-01-02T00:00:00+09:00",
    )
    check = check_delivery(late, {"kanda-coop": COOP})
    assert check.status == REFUSED and "agreement K-1" in (check.reason or "")


def test_wrong_encoding_is_an_error_with_the_line_and_no_mojibake(tmp_path: Path):
    path = tmp_path / "events.csv"
    path.write_bytes("a,b\n1,2\n山田,3\n".encode())
    with pytest.raises(InputError, match=r"declared cp932 but the bytes are UTF-8 .* line 3"):
        read_table(path, "cp932")
    path.write_bytes("a,b\n1,2\n山田,3\n".encode("cp932"))
    with pytest.raises(InputError, match="not valid utf-8 at line 3"):
        read_table(path, "utf-8")
    path.write_bytes(b"a,b\n1,2\n" + b"\x81\x7f,3\n")
    with pytest.raises(InputError, match="not valid cp932 at line 3"):
        read_table(path, "cp932")
    path.write_bytes("a,b\nｶﾅ,2\n".encode("cp932"))
    assert read_table(path, "cp932")["a"].tolist() == ["ｶﾅ"]


def test_registry_round_trip(tmp_path: Path):
    (tmp_path / "partners.yaml").write_text(
        "partners:\n  - id: kanda-coop\n    name: かんだ\n    sector: delivery\n    encoding: cp932\n"
        "    due_by: '06:00'\n    agreement: {ref: K, valid_from: 2025-04-01, valid_to: 2028-03-31}\n"
        "    codes: {不在: no_answer}\n",
        encoding="utf-8",
    )
    partner = load_registry(tmp_path / "partners.yaml")["kanda-coop"]
    assert (
        partner.canonical_code("不在") == "no_answer"
        and partner.canonical_code("handed_over") == "handed_over"
    )
    assert partner.canonical_code("謎") is None
    (tmp_path / "partners.yaml").write_text("partners:\n  - id: x\n    sector: bank\n    agreement: {}\n")
    with pytest.raises(InputError, match="unknown sector"):
        load_registry(tmp_path / "partners.yaml")


def frame(rows: list[dict[str, str]]) -> pd.DataFrame:
    return pd.DataFrame([{**IDS, **r} for r in rows]).astype(str)


def test_event_rows_get_row_level_reasons_and_the_rest_goes_on():
    rows = [
        {"event_time": "2026-11-19T10:00:00", "event_type": "不在", "備考": "鍵は隣に"},
        {"event_time": "2026-11-19T10:00:00", "event_type": "不在", "備考": "鍵は隣に"},  # exact duplicate
        {"event_time": "2026-11-19T11:00:00", "event_type": "謎コード", "備考": ""},
        {"event_time": "yesterday", "event_type": "受渡済", "備考": ""},
        {"event_time": "2026-11-21T10:00:00+09:00", "event_type": "受渡済", "備考": ""},
        {
            "event_time": "2026-11-19T01:00:00Z",
            "event_type": "handed_over",
            "備考": "",
            "partner_customer_id": "",
        },
        {"event_time": "2026-11-19T01:00:00Z", "event_type": "handed_over", "備考": ""},
    ]
    result = canonicalise(frame(rows), COOP, MANIFEST)
    assert dict(result.rejected.counts) == {
        "duplicate_row": 1,
        "unknown_code": 1,
        "bad_timestamp": 1,
        "future_timestamp": 1,
        "missing_identifier": 1,
    }
    assert result.dropped_columns == ["備考"]
    assert list(result.rows["event_type"]) == ["no_answer", "handed_over"]
    assert result.rows["event_start"].iloc[1] == pd.Timestamp("2026-11-19 10:00")  # UTC 01:00 is JST 10:00
    assert sorted(result.rejected.rows) == [2, 3, 4, 5, 6]


def test_readings_are_checked_for_period_sign_and_size():
    manifest = Manifest(
        "midori-denki",
        "utility",
        "d",
        dt.datetime(2026, 11, 19),
        dt.datetime(2026, 11, 20),
        dt.datetime(2026, 11, 20, 4),
        (),
    )
    base = {
        "utility": "electricity",
        "meter_id": "M1",
        "record_type": "reading",
        "unit": "kWh",
        "event_date": "",
        "event_type": "",
    }
    rows = [
        {
            **base,
            "period_start": "2026-11-19T10:00:00+09:00",
            "period_end": "2026-11-19T10:30:00+09:00",
            "consumption": "0.4",
        },
        {
            **base,
            "period_start": "2026-11-19T10:30:00+09:00",
            "period_end": "2026-11-19T11:00:00+09:00",
            "consumption": "-0.1",
        },
        {
            **base,
            "period_start": "2026-11-19T11:00:00+09:00",
            "period_end": "2026-11-19T11:30:00+09:00",
            "consumption": "500",
        },
        {
            **base,
            "period_start": "2026-11-18T10:00:00+09:00",
            "period_end": "2026-11-18T10:30:00+09:00",
            "consumption": "0.2",
        },
        {
            **base,
            "period_start": "2026-11-19T12:00:00+09:00",
            "period_end": "2026-11-19T12:05:00+09:00",
            "consumption": "0.2",
        },
        {
            **base,
            "record_type": "billing",
            "event_date": "2026-11-19",
            "event_type": "payment_overdue",
            "period_start": "",
            "period_end": "",
            "consumption": "",
            "unit": "",
        },
    ]
    result = canonicalise(frame(rows), POWER, manifest)
    assert dict(result.rejected.counts) == {
        "negative_consumption": 1,
        "absurd_consumption": 1,
        "outside_period": 1,
        "bad_reading_period": 1,
    }
    assert sorted(result.rows["kind"]) == ["event", "reading"]


def test_missing_required_columns_fail_the_batch():
    with pytest.raises(InputError, match="required columns missing: event_type"):
        canonicalise(frame([{"event_time": "2026-11-19T10:00:00"}]), COOP, MANIFEST)


CELLS = st.lists(st.text(alphabet=st.sampled_from(list(" \t\n\u3000=+-@(.0a1")), max_size=6), max_size=30)


@given(CELLS)
def test_formula_prefilter_never_misses_a_formula_cell(cells: list[str]) -> None:
    column = pd.Series(cells, dtype=str)
    assert _formula(column).tolist() == column.str.match(FORMULA, na=False).tolist()


@given(CELLS)
def test_stripping_only_columns_that_need_it_strips_every_cell(cells: list[str]) -> None:
    column = pd.Series(cells, dtype=str)
    assert _stripped(column).tolist() == [cell.strip() for cell in cells]


def test_duplicate_rows_are_found_across_chunks() -> None:
    hashes = RowHashes()
    first = pd.DataFrame({"a": ["x", "y", "x"], "b": ["1", "2", "1"]})
    second = pd.DataFrame({"a": ["y", "z"], "b": ["2", "2"]}, index=[3, 4])
    assert hashes.repeated(first).tolist() == [False, False, True]
    assert hashes.repeated(second).tolist() == [True, False]
