"""Raw data has a retention: deliveries leave the inbox sealed, withdrawals reach the archive, old copies go.

Runs days of the tiny home (two consented residents) and checks the partner inbox, the sealed archive,
quarantine, consent forms and the outbox on disk, and the audit records of every move and deletion.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from connectors import archive
from consent import forms
from expectations import quarantine
from mimamori import daily
from mimamori.cli import consent as consent_commands
from mimamori.context import RunContext
from mimamori.settings import load_settings
from warehouse.db import session_scope
from warehouse.models import ArchiveMember, AuditRecord, ConsentForm, Delivery

pytestmark = pytest.mark.integration

HEADER = "partner_customer_id,name_kana,name_kanji,birth_date,address,phone,event_time,event_type\n"
HANAKO = "KC1,ﾔﾏﾀﾞ ﾊﾅｺ,山田花子,19400302,本町1-2-3,,2026-11-01T10:00:00,受渡済\n"
ICHIRO = "KC3,ｽｽﾞｷ ｲﾁﾛｳ,鈴木一郎,19380506,栄町4-5-6,,2026-11-01T12:00:00,不在\n"
STRANGER = "KC9,ﾀﾅｶ ﾀﾛｳ,田中太郎,19300101,港町9-9-9,,2026-11-01T13:00:00,受渡済\n"


def audited(action: str) -> list[dict[str, object]]:
    with session_scope(load_settings().database_url) as session:
        records = session.execute(select(AuditRecord).where(AuditRecord.action == action)).scalars()
        return [{"subject": r.subject, **r.detail} for r in records]


def deliver(home: Path, delivery_id: str, body: str, rows: int, *, utf8: bool = False) -> Path:
    folder = home / "inbox" / "kanda-coop" / delivery_id
    folder.mkdir(parents=True)
    data = body.encode("utf-8" if utf8 else "cp932")  # UTF-8 declared as cp932 is quarantined
    (folder / "events.csv").write_bytes(data)
    (folder / "manifest.json").write_text(
        json.dumps(
            {
                "spec_version": "1",
                "partner_id": "kanda-coop",
                "sector": "delivery",
                "delivery_id": delivery_id,
                "period_start": "2026-11-01T00:00:00+09:00",
                "period_end": "2026-11-02T00:00:00+09:00",
                "files": [{"name": "events.csv", "sha256": hashlib.sha256(data).hexdigest(), "rows": rows}],
                "created_at": "2026-11-02T04:00:00+09:00",
            }
        )
    )
    return folder


def test_a_loaded_delivery_leaves_the_inbox_sealed_and_goes_after_the_archive_period(tiny: Path):
    original = (tiny / "inbox" / "kanda-coop" / "20261102-01" / "events.csv").read_bytes()
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    assert not (tiny / "inbox" / "kanda-coop" / "20261102-01").exists()
    assert (tiny / "inbox" / "kanda-coop" / "20261103-01").is_dir()  # not due yet: still waiting
    sealed = tiny / "archive" / "kanda-coop" / "20261102-01" / "events.csv.sealed"
    assert sealed.is_file() and "山田".encode("cp932") not in sealed.read_bytes()
    settings = load_settings()
    assert (
        archive.open_file(
            settings.path("archive"), settings.vault_keys, "kanda-coop", "20261102-01", "events.csv"
        )
        == original
    )
    assert [a["subject"] for a in audited("archive")] == ["kanda-coop/20261102-01"]
    daily.run_day(RunContext.from_environment(), "2026-12-02")  # 30 days after archiving: still kept
    assert sealed.is_file()
    daily.run_day(RunContext.from_environment(), "2026-12-03")
    assert not sealed.parent.exists()
    assert (tiny / "archive" / "kanda-coop" / "20261103-01").is_dir()  # archived on 12-03 itself
    (expired,) = [a for a in audited("retention") if a["subject"] == "archive"]
    assert expired["deliveries"] == ["kanda-coop/20261102-01"] and expired["deleted"] == 1


def test_a_withdrawal_takes_the_person_out_of_the_archive_and_quarantine(tiny: Path):
    shutil.rmtree(tiny / "inbox" / "kanda-coop")
    shared = deliver(tiny, "20261102-07", HEADER + HANAKO + ICHIRO + STRANGER, 3)
    alone = deliver(tiny, "20261102-08", HEADER + HANAKO.replace("10:00", "18:00"), 1)
    settings = load_settings()
    # a sealed quarantine copy of the same delivery, as a failed earlier attempt would have left
    quarantine.keep_files(
        settings.path("quarantine"), settings.vault_keys, "kanda-coop", "20261102-07", shared, ["events.csv"]
    )
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    with session_scope(settings.database_url) as session:
        members = sorted((m.delivery_id, m.rows) for m in session.execute(select(ArchiveMember)).scalars())
    assert members == [("20261102-07", [1]), ("20261102-07", [2]), ("20261102-08", [1])]  # not the stranger
    assert not alone.exists() and not shared.exists()
    consent_commands.consent_withdraw("C-1", "2026-11-02", revoke=False)
    daily.run_day(RunContext.from_environment(), "2026-11-03")
    root = settings.path("archive")
    assert not (root / "kanda-coop" / "20261102-08").exists()  # only Hanako had rows in it
    left = archive.open_file(root, settings.vault_keys, "kanda-coop", "20261102-07", "events.csv").decode(
        "cp932"
    )
    assert "山田花子" not in left and "鈴木一郎" in left and "田中太郎" in left
    manifest = json.loads(
        archive.open_file(root, settings.vault_keys, "kanda-coop", "20261102-07", "manifest.json")
    )
    assert manifest["files"][0]["rows"] == 2
    assert manifest["files"][0]["sha256"] == hashlib.sha256(left.encode("cp932")).hexdigest()
    held = quarantine.open_file(
        settings.path("quarantine"), settings.vault_keys, "kanda-coop", "20261102-07", "events.csv"
    ).decode("cp932")
    assert "山田花子" not in held and "鈴木一郎" in held
    assert {a["subject"] for a in audited("purge_rows")} == {
        "archive/kanda-coop/20261102-07",
        "quarantine/kanda-coop/20261102-07",
    }
    assert [a["subject"] for a in audited("purge_delivery")] == ["archive/kanda-coop/20261102-08"]
    with session_scope(settings.database_url) as session:
        assert len(session.execute(select(ArchiveMember)).scalars().all()) == 1  # Ichiro's


def test_consent_forms_are_sealed_after_import_and_the_same_file_is_recognised(tiny: Path):
    form = tiny / "consents" / "consents_20261101.csv"
    data = form.read_bytes()
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    assert not form.exists()
    settings = load_settings()
    digest = hashlib.sha256(data).hexdigest()
    assert forms.open_form(settings.path("consents"), settings.vault_keys, digest) == data
    assert b"0000000001" not in (tiny / "consents" / "imported" / f"{digest}.sealed").read_bytes()
    changes = len(audited("consent_change"))
    form.write_bytes(data)  # the same file dropped in again
    summary = daily.run_day(RunContext.from_environment(), "2026-11-03")
    assert summary["prepare"]["consents"]["recognised"] == 1 and summary["prepare"]["consents"]["added"] == 0
    assert not form.exists() and len(audited("consent_change")) == changes
    daily.run_day(RunContext.from_environment(), "2026-12-03")  # past the 30 days of consent forms
    assert not (tiny / "consents" / "imported" / f"{digest}.sealed").exists()
    with session_scope(settings.database_url) as session:
        kept = session.get(ConsentForm, digest)
        assert kept is not None and kept.sealed_name is None  # the checksum stays
    assert [a["subject"] for a in audited("retention") if a["subject"] == "consent_forms"] == [
        "consent_forms"
    ]


def test_quarantine_and_outbox_lists_go_after_their_periods(tiny: Path):
    deliver(tiny, "20261102-09", HEADER + HANAKO, 1, utf8=True)
    refused = deliver(tiny, "20261102-10", HEADER + HANAKO, 1)
    manifest = json.loads((refused / "manifest.json").read_text())
    (refused / "manifest.json").write_text(json.dumps({**manifest, "sector": "utility"}))
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    kept = tiny / "quarantine" / "kanda-coop" / "20261102-09"
    assert (kept / "events.csv.sealed").is_file()
    assert (tiny / "outbox" / "2026-11-02").is_dir()
    daily.run_day(RunContext.from_environment(), "2026-12-03")
    assert not (tiny / "outbox" / "2026-11-02").exists() and (tiny / "outbox" / "2026-12-03").is_dir()
    assert kept.is_dir() and refused.is_dir()  # 90 days for quarantine and refused deliveries
    with session_scope(load_settings().database_url) as session:
        statuses = dict(session.execute(select(Delivery.delivery_id, Delivery.status)).all())
    assert statuses["20261102-09"] == "quarantined" and statuses["20261102-10"] == "refused"
    daily.run_day(RunContext.from_environment(), str(dt.date(2026, 11, 2) + dt.timedelta(days=91)))
    assert not kept.exists() and not refused.exists()
    with session_scope(load_settings().database_url) as session:
        statuses = dict(session.execute(select(Delivery.delivery_id, Delivery.status)).all())
    assert statuses["20261102-09"] == statuses["20261102-10"] == "discarded"
    subjects = [a["subject"] for a in audited("retention")]
    assert "outbox" in subjects and "quarantine" in subjects and "inbox" in subjects


def test_a_vault_key_rotation_reseals_the_archive_and_the_consent_forms(tiny: Path):
    from identity.vault import sealed_key_id
    from mimamori import key_rotation

    original = (tiny / "inbox" / "kanda-coop" / "20261102-01" / "events.csv").read_bytes()
    form = (tiny / "consents" / "consents_20261101.csv").read_bytes()
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    result = key_rotation.rotate_key(RunContext.from_environment(), "vault")
    settings = load_settings()
    assert settings.vault_keys.current_id == result["to_key"] != result["from_key"]
    sealed = [*(tiny / "archive").rglob("*.sealed"), *(tiny / "consents" / "imported").glob("*.sealed")]
    assert sealed and {sealed_key_id(p.read_bytes()) for p in sealed} == {result["to_key"]}
    assert result["files"] >= len(sealed)
    root = settings.path("archive")
    assert archive.open_file(root, settings.vault_keys, "kanda-coop", "20261102-01", "events.csv") == original
    digest = hashlib.sha256(form).hexdigest()
    assert forms.open_form(settings.path("consents"), settings.vault_keys, digest) == form


def test_a_withdrawal_reaches_a_quarantined_delivery_and_its_inbox_copy(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
):
    from expectations.validate import Validation, validate
    from ingest import load as ingest

    def failing(frame: object, sector: str, *, home: Path | None = None, name: str = "") -> Validation:
        if name.endswith("-11"):  # as a suite failing on this delivery would answer
            return Validation(False, 1, ("expect_column_values_to_be_in_set",))
        return validate(frame, sector, home=home, name=name)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest, "validate", failing)
    shutil.rmtree(tiny / "inbox" / "kanda-coop")
    held = deliver(tiny, "20261102-11", HEADER + HANAKO + ICHIRO, 2)
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    settings = load_settings()
    with session_scope(settings.database_url) as session:
        status = session.execute(
            select(Delivery.status).where(Delivery.delivery_id == held.name)
        ).scalar_one()
    assert status == "quarantined" and held.is_dir()
    consent_commands.consent_withdraw("C-1", "2026-11-02", revoke=False)
    daily.run_day(RunContext.from_environment(), "2026-11-03")
    assert not held.exists()  # the partner's plain copy held Hanako's row
    root = settings.path("quarantine")
    kept = quarantine.open_file(root, settings.vault_keys, "kanda-coop", held.name, "events.csv").decode(
        "cp932"
    )
    assert "山田花子" not in kept and "鈴木一郎" in kept
    assert [a["subject"] for a in audited("purge_inbox")] == [f"kanda-coop/{held.name}"]
