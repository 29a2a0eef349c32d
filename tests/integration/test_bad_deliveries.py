"""A catalogue of malformed deliveries: each gets its exact recorded reason; the valid one beside it loads.

Each case puts one bad delivery for 2026-11-01 into a tiny home whose co-op delivery of the same day is
valid, runs the day, and checks what was recorded for both.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from privacy_scan import identifiers, leaked, validation_text
from sqlalchemy import select

from expectations.validate import DATA_DOCS
from mimamori import daily
from mimamori.context import RunContext
from mimamori.settings import load_settings
from warehouse.db import session_scope
from warehouse.models import Delivery, DeliveryCount

pytestmark = pytest.mark.integration

HEADER = "partner_customer_id,name_kana,name_kanji,birth_date,address,phone,event_time,event_type\n"
GOOD = "KC1,ﾔﾏﾀﾞ ﾊﾅｺ,山田花子,19400302,本町1-2-3,,2026-11-01T10:00:00,受渡済\n"
OTHER = "KC3,ｽｽﾞｷ ｲﾁﾛｳ,鈴木一郎,19380506,栄町4-5-6,,2026-11-01T12:00:00,不在\n"
# The identifiers the catalogue's own rows carry, looked for beside the town's after every case.
CATALOGUE_PEOPLE = {
    "catalogue": {
        "ﾔﾏﾀﾞﾊﾅｺ",
        "ﾔﾏﾀﾞ ﾊﾅｺ",
        "山田花子",
        "19400302",
        "本町1-2-3",
        "鈴木一郎",
        "19380506",
        "栄町4-5-6",
    }
}


@dataclass(frozen=True)
class Case:
    """One malformed delivery and what must be recorded for it."""

    name: str
    files: dict[str, bytes]
    status: str
    reason: str = ""
    partner: str = "kanda-coop"
    manifest: dict[str, object] = field(default_factory=dict)
    rows: int | None = None  # manifest row counts; None: count them
    drop_manifest: bool = False
    counts: dict[tuple[str, str], int] = field(default_factory=dict)


def cp932(text: str) -> bytes:
    return text.encode("cp932")


CASES = [
    Case(
        "checksum mismatch",
        {"events.csv": cp932(HEADER + GOOD)},
        "waiting",
        "SHA-256 does not match",
        manifest={"sha": "0" * 64},
    ),
    Case(
        "missing manifest",
        {"events.csv": cp932(HEADER + GOOD)},
        "waiting",
        "manifest not present yet",
        drop_manifest=True,
    ),
    Case(
        "truncated file", {"events.csv": cp932(HEADER + GOOD)}, "waiting", "row count does not match", rows=2
    ),
    Case(
        "UTF-8 sent as CP932",
        {"events.csv": (HEADER + GOOD).encode()},
        "quarantined",
        "declared cp932 but the bytes are UTF-8",
    ),
    Case(
        "bytes not in CP932",
        {"events.csv": cp932(HEADER) + b"KC1,\x81\x7f,x,19400302,a,,2026-11-01T10:00,x\n"},
        "quarantined",
        "not valid cp932 at line 2",
    ),
    Case(
        "BOM in a CP932 file",
        {"events.csv": b"\xef\xbb\xbf" + cp932(HEADER + GOOD)},
        "quarantined",
        "declared cp932 but the file starts with a UTF-8 byte-order mark",
    ),
    Case(
        "BOM in a UTF-8 file",
        {"events.csv": b"\xef\xbb\xbf" + (HEADER + GOOD).encode()},
        "loaded",
        partner="hikari-bento",
    ),
    Case(
        "extra column",
        {"events.csv": cp932(HEADER.strip() + ",備考\n" + GOOD.strip() + ",鍵は隣\n")},
        "loaded",
        counts={("column_dropped", "備考"): 1},
    ),
    Case(
        "missing column",
        {"events.csv": cp932(HEADER.replace(",event_type", "") + GOOD.rsplit(",", 1)[0] + "\n")},
        "quarantined",
        "required columns missing: event_type",
    ),
    Case("header only", {"events.csv": cp932(HEADER)}, "loaded"),
    Case("empty file", {"events.csv": b""}, "quarantined", "file is empty (no header row)"),
    Case(
        "unknown partner",
        {"events.csv": cp932(HEADER + GOOD)},
        "refused",
        "unknown partner 'stranger'",
        partner="stranger",
    ),
    Case(
        "expired agreement",
        {"events.csv": (HEADER + GOOD).encode()},
        "refused",
        "agreement OLD-1 not valid for the delivery period",
        partner="old-clinic",
    ),
    Case(
        "unknown code",
        {"events.csv": cp932(HEADER + GOOD + OTHER.replace("不在", "謎"))},
        "loaded",
        counts={("rejected", "unknown_code"): 1},
    ),
    Case(
        "future timestamp",
        {"events.csv": cp932(HEADER + GOOD + OTHER.replace("2026-11-01T12", "2027-01-01T12"))},
        "loaded",
        counts={("rejected", "future_timestamp"): 1},
    ),
    Case(
        "bad timestamp",
        {"events.csv": cp932(HEADER + GOOD + OTHER.replace("2026-11-01T12:00:00", "昼ごろ"))},
        "loaded",
        counts={("rejected", "bad_timestamp"): 1},
    ),
    Case(
        "unreadable birth date and shared phone",
        {
            "events.csv": cp932(
                HEADER + GOOD + OTHER.replace("19380506,栄町4-5-6,", "不明,栄町4-5-6,0120-111-222")
            )
        },
        "loaded",
        counts={
            ("identifier_refused", "birth_date: unrecognised format"): 1,
            ("identifier_refused", "phone: shared service number"): 1,
        },
    ),
    Case(
        "missing identifiers",
        {"events.csv": cp932(HEADER + GOOD + OTHER.replace("ｽｽﾞｷ ｲﾁﾛｳ,鈴木一郎", ","))},
        "loaded",
        counts={("rejected", "missing_identifier"): 1},
    ),
    Case(
        "exact duplicate rows",
        {"events.csv": cp932(HEADER + GOOD + GOOD)},
        "loaded",
        counts={("rejected", "duplicate_row"): 1},
    ),
    Case(
        "formula-like cell",
        {"events.csv": cp932(HEADER + GOOD + OTHER.replace("栄町4-5-6", '"=HYPERLINK(""x"")"'))},
        "loaded",
        counts={("rejected", "formula_like_cell"): 1},
    ),
    Case(
        "embedded newline and quotes",
        {"events.csv": cp932(HEADER + GOOD + OTHER.replace("栄町4-5-6", '"栄町4-5-6\n""離れ"""'))},
        "loaded",
    ),
    Case(
        "100 MB of binary garbage",
        {"events.csv": b"\x00\xff" * 50_000_000},
        "quarantined",
        "binary content (a NUL byte at line 1), not a text file",
    ),
    Case(
        "JSON Lines with a broken line",
        {"events.jsonl": b'{"partner_customer_id": "H1"}\n{broken\n'},
        "quarantined",
        "line 2 is not valid JSON",
        partner="hikari-bento",
    ),
    Case(
        "JSON Lines line not an object",
        {"events.jsonl": b"[1, 2]\n"},
        "quarantined",
        "line 1 is not a JSON object",
        partner="hikari-bento",
    ),
    Case(
        "manifest not JSON",
        {"events.csv": cp932(HEADER + GOOD)},
        "refused",
        "manifest is not valid JSON of the contract",
        manifest={"raw": "{not json"},
    ),
    Case(
        "manifest for another partner",
        {"events.csv": cp932(HEADER + GOOD)},
        "refused",
        "manifest partner_id/delivery_id do not match the folder",
        manifest={"partner_id": "hikari-bento"},
    ),
    Case(
        "manifest names a missing file",
        {"events.csv": cp932(HEADER + GOOD)},
        "waiting",
        "file other.csv not present yet",
        manifest={"extra_file": "other.csv"},
    ),
    Case(
        "path in a file name",
        {"events.csv": cp932(HEADER + GOOD)},
        "refused",
        "only .csv or .jsonl files in the folder are allowed",
        manifest={"name": "../events.csv"},
    ),
    Case(
        "spreadsheet instead of CSV",
        {"events.xlsx": b"PK\x03\x04"},
        "refused",
        "only .csv or .jsonl files in the folder are allowed",
    ),
    Case(
        "wrong sector in manifest",
        {"events.csv": cp932(HEADER + GOOD)},
        "refused",
        "sector 'clinic' differs from the registry (delivery)",
        manifest={"sector": "clinic"},
    ),
    Case(
        "manifest without files",
        {"events.csv": cp932(HEADER + GOOD)},
        "refused",
        "manifest lists no data files",
        manifest={"no_files": True},
    ),
    Case("valid legacy file", {"events.csv": cp932(HEADER + GOOD + OTHER)}, "loaded"),
]


def put(home: Path, case: Case) -> str:
    folder = home / "inbox" / case.partner / "bad-01"
    folder.mkdir(parents=True)
    for name, body in case.files.items():
        (folder / name).write_bytes(body)
    if case.drop_manifest:
        return "bad-01"
    entries = []
    for name, body in case.files.items():
        rows = body.count(b"\n") - (0 if name.endswith(".jsonl") else 1)
        if b'"' in body and name.endswith(".csv"):
            rows = 2  # two records, one with a quoted newline
        entries.append(
            {
                "name": case.manifest.get("name", name),
                "sha256": case.manifest.get("sha") or hashlib.sha256(body).hexdigest(),
                "rows": case.rows if case.rows is not None else max(rows, 0),
            }
        )
    if "extra_file" in case.manifest:
        entries.append({"name": case.manifest["extra_file"], "sha256": "0" * 64, "rows": 1})
    manifest = {
        "spec_version": "1",
        "partner_id": case.manifest.get("partner_id", case.partner),
        "sector": case.manifest.get("sector", "clinic" if case.partner == "old-clinic" else "delivery"),
        "delivery_id": "bad-01",
        "period_start": "2026-11-01T00:00:00+09:00",
        "period_end": "2026-11-02T00:00:00+09:00",
        "files": [] if case.manifest.get("no_files") else entries,
        "created_at": "2026-11-02T04:00:00+09:00",
    }
    text = str(case.manifest["raw"]) if "raw" in case.manifest else json.dumps(manifest)
    (folder / "manifest.json").write_text(text, encoding="utf-8")
    return "bad-01"


@pytest.fixture
def catalogue_home(tiny: Path) -> Path:
    with (tiny / "partners.yaml").open("a", encoding="utf-8") as registry:
        registry.write(
            "  - id: hikari-bento\n    name: ひかり配食\n    sector: delivery\n    encoding: utf-8\n"
            "    due_by: '07:00'\n"
            "    agreement: {ref: H-1, valid_from: 2025-04-01, valid_to: 2028-03-31}\n"
            "  - id: old-clinic\n    name: 旧クリニック\n    sector: clinic\n    encoding: utf-8\n"
            "    due_by: '07:00'\n"
            "    agreement: {ref: OLD-1, valid_from: 2020-04-01, valid_to: 2026-03-31}\n"
        )
    return tiny


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_delivery_gets_its_reason_and_the_valid_one_beside_it_loads(catalogue_home: Path, case: Case):
    delivery_id = put(catalogue_home, case)
    summary = daily.run_day(RunContext.from_environment(), "2026-11-02")
    settings = load_settings()
    with session_scope(settings.database_url) as session:
        found = session.execute(
            select(Delivery).where(Delivery.partner_id == case.partner, Delivery.delivery_id == delivery_id)
        ).scalar_one()
        valid = session.execute(
            select(Delivery).where(Delivery.partner_id == "kanda-coop", Delivery.delivery_id == "20261102-01")
        ).scalar_one()
        counts = {
            (c.stage, c.reason): c.count
            for c in session.execute(
                select(DeliveryCount).where(DeliveryCount.delivery_pk == found.id)
            ).scalars()
        }
    assert found.status == case.status
    assert case.reason in (found.reason or ""), found.reason
    assert valid.status == "loaded" and valid.rows_loaded == 1
    for key, expected in case.counts.items():
        assert counts.get(key) == expected, counts
    if case.status == "quarantined":
        sealed = list((catalogue_home / "quarantine" / case.partner / delivery_id).glob("*.sealed"))
        assert sealed, "the rejected raw batch is kept (encrypted), not lost"
        raw = next(iter(case.files.values()))
        assert all(raw[:64] not in p.read_bytes() for p in sealed if raw[:64].strip())
    assert summary["ingest"]["deliveries"].get("loaded", 0) >= 1
    people = {**identifiers(catalogue_home, dt.date(2026, 11, 30)), **CATALOGUE_PEOPLE}
    assert (catalogue_home / DATA_DOCS).is_file()
    assert leaked(validation_text(catalogue_home), people) == []


def test_a_re_sent_delivery_id_changes_nothing(catalogue_home: Path):
    from connectors import archive

    folder = catalogue_home / "inbox" / "kanda-coop" / "20261102-01"
    first = {p.name: p.read_bytes() for p in folder.iterdir()}
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    assert not os.path.exists(folder)  # loaded, so sealed into the archive
    folder.mkdir()
    for name, data in first.items():
        (folder / name).write_bytes(data + cp932(OTHER) if name == "events.csv" else data)
    second = daily.run_day(RunContext.from_environment(), "2026-11-02")
    assert second["ingest"]["deliveries"] == {} and second["ingest"]["rows_loaded"] == 0
    assert not os.path.exists(folder)  # the re-sent copy was never read, and is not kept
    settings = load_settings()
    kept = archive.open_file(
        settings.path("archive"), settings.vault_keys, "kanda-coop", folder.name, "events.csv"
    )
    assert kept == first["events.csv"]


def _status(partner: str, delivery_id: str) -> str:
    with session_scope(load_settings().database_url) as session:
        return session.execute(
            select(Delivery.status).where(Delivery.partner_id == partner, Delivery.delivery_id == delivery_id)
        ).scalar_one()


def test_a_released_batch_is_read_again_after_the_partners_fix(catalogue_home: Path):
    from mimamori.cli import steward as steward_commands

    put(catalogue_home, Case("fixable", {"events.csv": (HEADER + OTHER).encode()}, "quarantined"))
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    assert _status("kanda-coop", "bad-01") == "quarantined"
    assert "declared cp932" in steward_commands.quarantine_show("kanda-coop/bad-01")
    folder = catalogue_home / "inbox" / "kanda-coop" / "bad-01"
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    put(
        catalogue_home, Case("fixed", {"events.csv": cp932(HEADER + OTHER)}, "loaded")
    )  # the partner re-sends
    assert "released" in steward_commands.quarantine_release("kanda-coop/bad-01")
    daily.run_day(RunContext.from_environment(), "2026-11-03")
    assert _status("kanda-coop", "bad-01") == "loaded"
    with pytest.raises(Exception, match="only a quarantined or refused delivery"):
        steward_commands.quarantine_release("kanda-coop/bad-01")


def test_release_restores_files_from_quarantine_and_discard_deletes_them(catalogue_home: Path):
    from mimamori.cli import steward as steward_commands
    from warehouse.models import AuditRecord

    put(catalogue_home, Case("garbage", {"events.csv": b"\x00" * 10}, "quarantined"))
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    inbox = catalogue_home / "inbox" / "kanda-coop" / "bad-01"
    for path in inbox.iterdir():
        path.unlink()
    inbox.rmdir()
    steward_commands.quarantine_release("kanda-coop/bad-01")
    released = catalogue_home / "released" / "kanda-coop" / "bad-01"
    # restored from the sealed copy, nothing lost
    assert (released / "events.csv").read_bytes() == b"\x00" * 10
    assert not inbox.exists(), "restored into the steward-only folder, never into the partner's inbox"
    daily.run_day(RunContext.from_environment(), "2026-11-03")
    assert _status("kanda-coop", "bad-01") == "quarantined"
    assert not released.exists(), "read from there, sealed again, the plain copy gone"
    assert "discarded" in steward_commands.quarantine_discard("kanda-coop/bad-01")
    assert not list((catalogue_home / "quarantine" / "kanda-coop" / "bad-01").glob("*.sealed"))
    daily.run_day(RunContext.from_environment(), "2026-11-04")
    assert _status("kanda-coop", "bad-01") == "discarded"
    with session_scope(load_settings().database_url) as session:
        actions = [a.action for a in session.execute(select(AuditRecord)).scalars()]
    assert actions.count("quarantine_release") == 1 and actions.count("quarantine_discard") == 1


def test_validation_results_are_stored_per_delivery_without_values(catalogue_home: Path):
    from warehouse.models import ValidationResult

    daily.run_day(RunContext.from_environment(), "2026-11-02")
    with session_scope(load_settings().database_url) as session:
        results = list(session.execute(select(ValidationResult)).scalars())
    assert results and all(r.success and r.suite == "mimamori_delivery" and r.evaluated > 10 for r in results)
    assert all(r.failed == [] for r in results)


def test_feed_health_tells_late_incomplete_missing_and_quarantined_apart(catalogue_home: Path):
    put(
        catalogue_home,
        Case("half uploaded", {"events.jsonl": b'{"a": 1}\n'}, "waiting", partner="hikari-bento", rows=5),
    )
    summary = daily.run_day(RunContext.from_environment(), "2026-11-02")
    assert summary["assess_feeds"] == {"hikari-bento": "late_incomplete", "kanda-coop": "on_time"}
    assert summary["build"]["not_received"] == ["hikari-bento"]
    listing = json.loads((catalogue_home / "outbox" / "2026-11-02" / "D01.json").read_text(encoding="utf-8"))
    assert [n["partner_id"] for n in listing["notices"]] == ["hikari-bento"]
    later = daily.run_day(RunContext.from_environment(), "2026-11-03")
    assert later["assess_feeds"]["hikari-bento"] == "missing"
