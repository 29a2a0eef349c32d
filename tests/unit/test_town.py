"""The synthetic town generator writes a deterministic, contract-shaped and deliberately messy data home."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mimamori_demo.town import (
    CANONICAL_EVENTS,
    CONSENT_COLUMNS,
    IDENTIFIER_COLUMNS,
    PARTNERS,
    REGISTER_COLUMNS,
    SCENARIOS,
    TownSummary,
    generate_town,
)
from mimamori_demo.town.variants import era_date, kanji_number
from warehouse.errors import InputError

pytestmark = pytest.mark.unit

RESIDENTS, DAYS = 300, 4
ENCODINGS = {p.id: p.encoding for p in PARTNERS}
HALF_WIDTH_KANA = re.compile("[\uff66-\uff9f]")
MANIFEST_KEYS = [
    "spec_version",
    "partner_id",
    "sector",
    "delivery_id",
    "period_start",
    "period_end",
    "files",
    "created_at",
]


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TownSummary]:
    root = tmp_path_factory.mktemp("town")
    summary = generate_town(root / "home", residents=RESIDENTS, days=DAYS, seed=11)
    return root / "home", summary


@pytest.fixture(scope="module")
def truth(town: tuple[Path, TownSummary]) -> dict[str, Any]:
    return json.loads(town[1].truth_path.read_text(encoding="utf-8"))


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _data_rows(partner_id: str, data: bytes) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a delivery file, JSON Lines turned into the same shape."""
    if partner_id == "hikari-bento":
        records = [json.loads(line) for line in data.decode("utf-8").splitlines()]
        header = list(records[0]) if records else []
        return header, [[r[k] or "" for k in header] for r in records]
    table = list(csv.reader(io.StringIO(data.decode(ENCODINGS[partner_id]))))
    return table[0], table[1:]


def _deliveries(home: Path) -> list[tuple[dict[str, Any], Path]]:
    return [
        (json.loads(m.read_text(encoding="utf-8")), m.parent)
        for m in sorted(home.glob("inbox/*/*/manifest.json"))
    ]


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(
    tmp_path: Path, town: tuple[Path, TownSummary]
) -> None:
    again = generate_town(tmp_path / "home", residents=RESIDENTS, days=DAYS, seed=11)
    assert _tree(tmp_path / "home") == _tree(town[0])
    assert again.truth_path.read_bytes() == town[1].truth_path.read_bytes()
    generate_town(tmp_path / "other", residents=RESIDENTS, days=DAYS, seed=12)
    other = _tree(tmp_path / "other")
    assert other["register/register_20261101.csv"] != _tree(town[0])["register/register_20261101.csv"]


def test_summary_counts_what_was_written(town: tuple[Path, TownSummary]) -> None:
    home, summary = town
    deliveries = _deliveries(home)
    assert summary.residents == RESIDENTS
    assert summary.partners == len(PARTNERS) == 6
    assert summary.deliveries == len(deliveries) == len(PARTNERS) * DAYS - 1
    assert summary.rows == sum(m["files"][0]["rows"] for m, _ in deliveries)
    assert summary.run_dates == ["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"]


def test_manifests_match_their_files(town: tuple[Path, TownSummary]) -> None:
    for manifest, folder in _deliveries(town[0]):
        assert list(manifest) == MANIFEST_KEYS
        assert manifest["spec_version"] == "1" and manifest["partner_id"] == folder.parent.name
        assert manifest["delivery_id"] == folder.name == manifest["period_end"][:10].replace("-", "") + "-01"
        assert manifest["period_start"].endswith("T00:00:00+09:00")
        assert manifest["period_end"].endswith("T00:00:00+09:00")
        (entry,) = manifest["files"]
        data = (folder / entry["name"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["rows"] == len(_data_rows(manifest["partner_id"], data)[1])


def test_kanda_coop_writes_cp932_with_half_width_kana(town: tuple[Path, TownSummary]) -> None:
    files = sorted(town[0].glob("inbox/kanda-coop/*/deliveries.csv"))
    text = "".join(f.read_bytes().decode("cp932") for f in files)
    with pytest.raises(UnicodeDecodeError):
        b"".join(f.read_bytes() for f in files).decode("utf-8")
    assert HALF_WIDTH_KANA.search(text)
    assert "備考" in text.splitlines()[0]
    assert re.search(r",(19|20)\d{6},", text)  # compact birth dates


def test_every_partner_code_and_event_is_canonical(town: tuple[Path, TownSummary]) -> None:
    registry = yaml.safe_load((town[0] / "partners.yaml").read_text(encoding="utf-8"))["partners"]
    assert [p["id"] for p in registry] == [p.id for p in PARTNERS]
    codes = {p["id"]: (p["sector"], p["codes"]) for p in registry}
    for entry in registry:
        assert entry["agreement"]["valid_from"] == datetime.date(2025, 4, 1)
        assert entry["agreement"]["valid_to"] == datetime.date(2028, 3, 31)
        assert all(canonical in CANONICAL_EVENTS[entry["sector"]] for canonical in entry["codes"].values())
    assert len(codes["kanda-coop"][1]) == 6
    for manifest, folder in _deliveries(town[0]):
        sector, own = codes[manifest["partner_id"]]
        header, rows = _data_rows(
            manifest["partner_id"], (folder / manifest["files"][0]["name"]).read_bytes()
        )
        at = header.index("event_type")
        events = {own.get(r[at], r[at]) for r in rows if r[at]}
        assert events <= set(CANONICAL_EVENTS[sector]), (manifest["partner_id"], events)


def test_every_row_carries_the_identifier_columns(town: tuple[Path, TownSummary]) -> None:
    register = (town[0] / "register" / "register_20261101.csv").read_text(encoding="utf-8-sig")
    resident_ids = {row[0] for row in csv.reader(io.StringIO(register))}
    for manifest, folder in _deliveries(town[0]):
        header, rows = _data_rows(
            manifest["partner_id"], (folder / manifest["files"][0]["name"]).read_bytes()
        )
        if not rows:
            continue
        assert tuple(header[: len(IDENTIFIER_COLUMNS)]) == IDENTIFIER_COLUMNS
        for row in rows:
            assert row[0] and row[0] not in resident_ids
            assert row[1] or row[2]
            assert row[4]


def test_electricity_sends_48_half_hours_per_customer_and_day(town: tuple[Path, TownSummary]) -> None:
    for data in sorted(town[0].glob("inbox/midori-denki/*/usage.csv")):
        header, rows = _data_rows("midori-denki", data.read_bytes())
        readings: dict[str, set[str]] = {}
        for row in rows:
            if row[header.index("record_type")] == "reading":
                readings.setdefault(row[0], set()).add(row[header.index("period_start")])
                assert float(row[header.index("consumption")]) >= 0
        assert readings and all(len(starts) == 48 for starts in readings.values())


def test_truth_covers_every_scenario_and_sits_outside_the_home(
    town: tuple[Path, TownSummary], truth: dict[str, Any]
) -> None:
    home, summary = town
    assert summary.truth_path == home.parent / "home.truth.json"
    assert not summary.truth_path.resolve().is_relative_to(home.resolve())
    assert {entry["scenario"] for entry in truth["scenarios"]} == set(SCENARIOS)
    for entry in truth["scenarios"]:
        assert {"resident_id", "district_code", "should_be_listed_from", "should_be_listed_until"} <= set(
            entry
        )
    assert truth["run_dates"] == summary.run_dates
    assert truth["consents"]["withdrawn"][0]["consent_id"].startswith("C20")
    for counts in truth["unconsented_in_feeds"]["per_partner"].values():
        assert counts["unconsented_residents"] > 0 and counts["not_in_register"] > 0


def test_truth_inside_the_home_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="outside"):
        generate_town(tmp_path / "h", residents=RESIDENTS, days=DAYS, truth_path=tmp_path / "h" / "t.json")


def test_one_delivery_is_missing_and_one_is_late(
    town: tuple[Path, TownSummary], truth: dict[str, Any]
) -> None:
    home = town[0]
    missing, late = truth["deliveries"]["missing"], truth["deliveries"]["late"]
    assert not (home / "inbox" / missing["partner_id"] / missing["delivery_id"]).exists()
    due = {p.id: p.due_by for p in PARTNERS}
    late_ones = []
    for manifest, _folder in _deliveries(home):
        created = datetime.datetime.fromisoformat(manifest["created_at"])
        hours, minutes = (int(x) for x in due[manifest["partner_id"]].split(":"))
        deadline = datetime.datetime.fromisoformat(manifest["period_end"]) + datetime.timedelta(
            hours=hours, minutes=minutes
        )
        assert created > datetime.datetime.fromisoformat(manifest["period_end"])
        if created > deadline:
            late_ones.append((manifest["partner_id"], manifest["delivery_id"]))
    assert late_ones == [(late["partner_id"], late["delivery_id"])]
    assert sum(truth["deliveries"]["duplicate_rows"].values()) >= 2


def _decode(data: bytes) -> tuple[str, str]:
    """Text and encoding of a register extract, told apart the way an importer would."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data.decode("utf-8-sig"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp932"), "cp932"


def test_register_extracts_follow_the_contract(town: tuple[Path, TownSummary], truth: dict[str, Any]) -> None:
    files = sorted((town[0] / "register").glob("register_*.csv"))
    assert files[0].name == "register_20261101.csv"
    tables, encodings = {}, []
    for f in files:
        text, encoding = _decode(f.read_bytes())
        encodings.append(encoding)
        table = list(csv.reader(io.StringIO(text)))
        assert tuple(table[0]) == REGISTER_COLUMNS
        tables[f.name] = {row[0]: dict(zip(REGISTER_COLUMNS, row, strict=True)) for row in table[1:]}
        assert len(tables[f.name]) == RESIDENTS
    assert encodings[0] == "utf-8-sig" and "cp932" in encodings[1:]
    first = tables[files[0].name]
    assert all(re.fullmatch(r"\d{10}", rid) for rid in first)
    assert all(1 <= int(r["household_size"]) <= 5 for r in first.values())
    sample = next(iter(first.values()))
    assert "\u3000" in sample["name_kanji"] and "\u3000" in sample["name_kana"]
    assert sample["address"].startswith("神奈川県みどり市")
    bereaved = [e for e in truth["scenarios"] if e["scenario"] == "bereavement"]
    assert {e["variant"] for e in bereaved} == {"insurer", "no_insurer"}
    for case in bereaved:
        later = tables[f"register_{case['register_shows_on'].replace('-', '')}.csv"]
        assert later[case["spouse_resident_id"]]["status"] == "deceased"
        survivor = later[case["resident_id"]]
        assert survivor["household_size"] == "1" and first[case["resident_id"]]["household_size"] == "2"
        assert (survivor["household_since"], survivor["household_reason"]) == (
            case["spouse_died_on"],
            "death",
        )
        assert ("sakura-life" in case["partners"]) == (case["variant"] == "insurer")


def test_prevention_cases_show_in_the_register_and_the_feeds(truth: dict[str, Any], town) -> None:
    text, _ = _decode((town[0] / "register" / "register_20261101.csv").read_bytes())
    first = {row["resident_id"]: row for row in csv.DictReader(io.StringIO(text))}
    cases = {kind: [e for e in truth["scenarios"] if e["scenario"] == kind] for kind in ("move_in", "unseen")}
    for case in cases["move_in"]:
        row = first[case["resident_id"]]
        assert (row["household_reason"], row["household_size"]) == ("move_in", "1")
        assert truth["start"] >= row["household_since"] >= "2026-10-18"
    for case in cases["unseen"]:
        assert case["partners"] == [] and first[case["resident_id"]]["household_since"] <= "2006-11-10"
    money_clinic = [e for e in truth["scenarios"] if e.get("variant") == "money_clinic"]
    assert money_clinic and all(set(e["partners"]) == {"sakura-life", "aoba-clinic"} for e in money_clinic)


def test_consent_files_grant_then_withdraw(town: tuple[Path, TownSummary], truth: dict[str, Any]) -> None:
    first, later = sorted((town[0] / "consents").glob("consents_*.csv"))
    initial = list(csv.DictReader(io.StringIO(first.read_text(encoding="utf-8"))))
    changes = list(csv.DictReader(io.StringIO(later.read_text(encoding="utf-8"))))
    assert tuple(initial[0]) == CONSENT_COLUMNS
    assert all(re.fullmatch(r"C20\d\d-\d{6}", row["consent_id"]) for row in initial + changes)
    assert all(row["granted_on"] < "2026-11-01" and not row["withdrawn_on"] for row in initial)
    withdrawn = [row for row in changes if row["withdrawn_on"]]
    assert [row["consent_id"] for row in withdrawn] == [truth["consents"]["withdrawn"][0]["consent_id"]]
    assert withdrawn[0]["consent_id"] in {row["consent_id"] for row in initial}
    assert len(changes) == 2 and truth["consents"]["expiring_in_period"]


def test_japanese_forms() -> None:
    assert era_date(datetime.date(1945, 3, 2), short=False) == "昭和20年3月2日"
    assert era_date(datetime.date(1945, 3, 2), short=True) == "S20.3.2"
    assert era_date(datetime.date(1989, 1, 8), short=False) == "平成元年1月8日"
    assert [kanji_number(n) for n in (1, 10, 12, 23)] == ["一", "十", "十二", "二十三"]
