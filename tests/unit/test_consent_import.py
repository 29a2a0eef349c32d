from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from consent.importer import COLUMNS, import_file
from identity.keys import KeyRing
from warehouse import audit
from warehouse.db import migrate, session_scope
from warehouse.models import AuditRecord, ConsentRecord

pytestmark = pytest.mark.unit
RING = KeyRing("k1", {"k1": b"p" * 32})
VAULT = KeyRing("v1", {"v1": b"v" * 32})
GRANT = {
    "resident_id": "0000000001",
    "consent_id": "C-1",
    "scope_partners": "*",
    "scope_sectors": "*",
    "purpose": "watch_over",
    "granted_on": "2026-01-10",
    "expires_on": "2027-01-09",
    "withdrawn_on": "",
    "method": "proxy",
    "evidence_ref": "P-1",
    "proxy_name": "山田太郎",
    "proxy_relation": "長男",
}


def write(path: Path, *rows: dict[str, str]) -> Path:
    lines = [",".join(COLUMNS)] + [",".join(r[c] for c in COLUMNS) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(tmp_path: Path, path: Path):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    migrate(url)
    with session_scope(url) as session:
        result = import_file(path, session, RING, VAULT, "steward")
        records = list(session.execute(select(ConsentRecord).order_by(ConsentRecord.version)).scalars())
        changes = audit.count(session, "consent_change")
    return result, records, changes


def test_import_is_idempotent_and_versions_a_withdrawal(tmp_path: Path):
    first = write(tmp_path / "consents_20261101.csv", GRANT)
    result, records, _ = run(tmp_path, first)
    assert (result.added, records[0].status) == (1, "given")
    assert records[0].resident.startswith("k1:") and records[0].proxy_ciphertext
    assert b"\xe5\xb1\xb1" not in (records[0].proxy_ciphertext or b"")  # 山 in UTF-8 is not stored in clear
    result, _, _ = run(tmp_path, first)
    assert (result.added, result.unchanged) == (0, 1)
    later = write(tmp_path / "consents_20261110.csv", {**GRANT, "withdrawn_on": "2026-11-10"})
    result, records, changes = run(tmp_path, later)
    assert [r.status for r in records] == ["given", "withdrawn"]
    assert changes == 2
    # the first file again, after the withdrawal: already recorded, nothing changes, nothing refused
    result, records, changes = run(tmp_path, first)
    assert (result.added, result.unchanged, result.refused, len(records), changes) == (0, 1, [], 2, 2)


def test_a_grant_after_withdrawal_without_a_new_id_is_refused_with_reason(tmp_path: Path):
    run(tmp_path, write(tmp_path / "a.csv", {**GRANT, "withdrawn_on": "2026-11-10"}))
    result, records, _ = run(tmp_path, write(tmp_path / "b.csv", {**GRANT, "granted_on": "2026-11-12"}))
    assert result.refused == [
        (
            "C-1",
            2,
            "撤回後の同意には新しい同意IDが必要です / a grant after a withdrawal needs a new consent_id",
        )
    ]
    assert len(records) == 1


def test_bad_rows_are_refused_one_by_one(tmp_path: Path):
    rows = [
        {**GRANT, "consent_id": "C-2", "purpose": "marketing"},
        {**GRANT, "consent_id": "C-3", "granted_on": "2026-13-01"},
        {**GRANT, "consent_id": "C-4", "proxy_name": ""},
        {**GRANT, "consent_id": "C-5"},
    ]
    result, records, _ = run(tmp_path, write(tmp_path / "c.csv", *rows))
    assert [(cid, reason.split(" / ")[-1]) for cid, _, reason in result.refused] == [
        ("C-2", "purpose must be watch_over"),
        ("C-3", "granted_on is not a date YYYY-MM-DD"),
        ("C-4", "a proxy consent needs proxy_name and proxy_relation"),
    ]
    assert [r.consent_id for r in records] == ["C-5"]


def test_a_form_saved_by_japanese_excel_in_cp932_is_read(tmp_path: Path):
    path = write(tmp_path / "excel.csv", GRANT)
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp932"))
    result, records, _ = run(tmp_path, path)
    assert (result.added, result.refused) == (1, [])
    assert [r.proxy_relation for r in records] == ["長男"]


def test_bytes_neither_utf8_nor_cp932_are_refused_in_japanese(tmp_path: Path):
    from consent.importer import parse_form
    from warehouse.errors import InputError

    with pytest.raises(InputError, match="文字コード"):
        parse_form(",".join(COLUMNS).encode() + b"\n\x81\x7f\xff\n", "bad.csv")


def test_a_preview_writes_nothing_and_tells_accepted_from_refused(tmp_path: Path):
    from consent.importer import parse_form, preview

    url = f"sqlite:///{tmp_path / 'w.db'}"
    migrate(url)
    rows = parse_form(
        write(tmp_path / "p.csv", GRANT, {**GRANT, "consent_id": "C-9", "method": "fax"}).read_bytes(),
        "p.csv",
    )
    with session_scope(url) as session:
        before = len(list(session.execute(select(AuditRecord)).scalars()))
        result = preview(rows, session, RING, VAULT, "tester", "p.csv")
        assert result.accepted == [("C-1", 2, "added")]
        assert [(cid, line) for cid, line, _ in result.refused] == [("C-9", 3)]
        assert "方法は" in result.refused[0][2]
    with session_scope(url) as session:
        assert list(session.execute(select(ConsentRecord)).scalars()) == []
        assert len(list(session.execute(select(AuditRecord)).scalars())) == before
