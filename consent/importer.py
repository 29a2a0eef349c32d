"""Import of consent forms (CSV): idempotent, versioned, refusing rows that contradict the record."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.book import WILDCARD
from identity.keys import KeyRing
from identity.pseudonym import keyed_digest, pseudonymise
from identity.vault import seal_bytes
from warehouse import audit
from warehouse.db import utcnow
from warehouse.errors import InputError
from warehouse.models import ConsentRecord, ConsentTombstone

COLUMNS = (
    "resident_id",
    "consent_id",
    "scope_partners",
    "scope_sectors",
    "purpose",
    "granted_on",
    "expires_on",
    "withdrawn_on",
    "method",
    "evidence_ref",
    "proxy_name",
    "proxy_relation",
)
METHODS = frozenset({"paper", "online", "proxy"})
PURPOSES = frozenset({"watch_over"})
GIVEN, RENEWED, WITHDRAWN = "given", "renewed", "withdrawn"
ADDED, UNCHANGED = "added", "unchanged"


@dataclass
class ImportResult:
    """What an import did: versions added, rows already known, rows refused with their reasons."""

    added: int = 0
    unchanged: int = 0
    refused: list[tuple[str, int, str]] = field(default_factory=list)
    accepted: list[tuple[str, int, str]] = field(default_factory=list)  # (consent id, line, ADDED/UNCHANGED)


def _date(value: str, column: str) -> dt.date | None:
    if not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"{column} の日付が正しくありません（YYYY-MM-DD） / {column} is not a date YYYY-MM-DD"
        ) from None


def _scope(value: str) -> list[str]:
    items = sorted({part.strip() for part in value.split(";") if part.strip()})
    return [WILDCARD] if WILDCARD in items or not items else items


@dataclass(frozen=True)
class _Row:
    resident: str
    consent_id: str
    partners: list[str]
    sectors: list[str]
    purpose: str
    granted_on: dt.date
    expires_on: dt.date | None
    withdrawn_on: dt.date | None
    method: str
    evidence_ref: str
    proxy_name: str
    proxy_relation: str
    digest: str
    known_digests: frozenset[str]


def _parse(raw: dict[str, str], keys: KeyRing) -> _Row:
    values = {c: (raw.get(c) or "").strip() for c in COLUMNS}
    if not values["resident_id"] or not values["consent_id"]:
        raise ValueError("宛名番号と同意IDは必須です / resident_id and consent_id are required")
    if values["purpose"] not in PURPOSES:
        raise ValueError("目的は watch_over のみです / purpose must be watch_over")
    if values["method"] not in METHODS:
        raise ValueError("方法は paper・online・proxy のいずれかです / method must be paper, online or proxy")
    granted = _date(values["granted_on"], "granted_on")
    if granted is None:
        raise ValueError("同意日は必須です / granted_on is required")
    expires, withdrawn = (
        _date(values["expires_on"], "expires_on"),
        _date(values["withdrawn_on"], "withdrawn_on"),
    )
    if expires and expires < granted:
        raise ValueError("有効期限が同意日より前です / expires_on is before granted_on")
    if values["method"] == "proxy" and not (values["proxy_name"] and values["proxy_relation"]):
        raise ValueError(
            "代理人による同意には代理人の氏名と続柄が必要です / "
            "a proxy consent needs proxy_name and proxy_relation"
        )
    return _Row(
        resident=pseudonymise(keys, values["resident_id"]),
        consent_id=values["consent_id"],
        partners=_scope(values["scope_partners"]),
        sectors=_scope(values["scope_sectors"]),
        purpose=values["purpose"],
        granted_on=granted,
        expires_on=expires,
        withdrawn_on=withdrawn,
        method=values["method"],
        evidence_ref=values["evidence_ref"],
        proxy_name=values["proxy_name"],
        proxy_relation=values["proxy_relation"],
        digest=keyed_digest(keys, "consent-row", *(values[c] for c in COLUMNS)),
        # the same row digested under any key of the ring (it may have been imported before a rotation)
        known_digests=frozenset(
            keyed_digest(KeyRing(key_id, keys.keys), "consent-row", *(values[c] for c in COLUMNS))
            for key_id in keys.keys
        ),
    )


def _transition(current: ConsentRecord | None, row: _Row) -> str:
    """The lifecycle status the row moves the consent to; ValueError when it contradicts the record."""
    if current is None:
        return WITHDRAWN if row.withdrawn_on else GIVEN
    if current.resident != row.resident:
        raise ValueError("この同意IDは別の住民のものです / consent_id already belongs to another resident")
    if current.withdrawn_on and not row.withdrawn_on:
        raise ValueError(
            "撤回後の同意には新しい同意IDが必要です / a grant after a withdrawal needs a new consent_id"
        )
    same_scope = (current.scope_partners, current.scope_sectors) == (row.partners, row.sectors)
    if not same_scope or current.granted_on != row.granted_on:
        raise ValueError(
            "範囲か同意日が記録と異なります。新しい同意IDを使ってください / "
            "scope or grant date differs from the current record; use a new consent_id"
        )
    if row.withdrawn_on and not current.withdrawn_on:
        return WITHDRAWN
    if (row.expires_on or dt.date.max) > (current.expires_on or dt.date.max):
        return RENEWED
    raise ValueError(
        "この行は記録を許されない形で変更します / "
        "the row changes the record in a way the lifecycle does not allow"
    )


def decode_form(data: bytes, name: str) -> str:
    """A consent form's text: UTF-8 (with or without BOM), or CP932 as Japanese Excel saves "CSV"."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932")
    except UnicodeDecodeError:
        raise InputError(
            f"{name}: 文字コードを読めません。UTF-8 か Shift_JIS（CP932）で保存してください / "
            "consent files must be UTF-8 or CP932 (Shift_JIS)"
        ) from None


def parse_form(data: bytes, name: str) -> list[dict[str, str]]:
    """The rows of a consent form's bytes, after checking its header."""
    reader = csv.DictReader(io.StringIO(decode_form(data, name), newline=""))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"{name}: 同意の列がありません / consent columns missing: {', '.join(missing)}")
    return list(reader)


def read_rows(path: Path) -> list[dict[str, str]]:
    """Read a consent CSV (UTF-8 with or without BOM, or CP932) and check its header."""
    return parse_form(path.read_bytes(), path.name)


def _same(current: ConsentRecord, row: _Row) -> bool:
    return (
        current.resident,
        current.scope_partners,
        current.scope_sectors,
        current.granted_on,
        current.expires_on,
        current.withdrawn_on,
    ) == (row.resident, row.partners, row.sectors, row.granted_on, row.expires_on, row.withdrawn_on)


@dataclass
class Known:
    """What the warehouse already holds about consents: versions by id (newest first) and purged ids."""

    versions: dict[str, list[ConsentRecord]]
    purged: set[str]

    @classmethod
    def load(cls, session: Session, consent_id: str | None = None) -> Known:
        """Every consent's versions (or one consent's), in one query each."""
        query = select(ConsentRecord).order_by(ConsentRecord.consent_id, ConsentRecord.version.desc())
        tombs = select(ConsentTombstone.consent_id)
        if consent_id is not None:
            query = query.where(ConsentRecord.consent_id == consent_id)
            tombs = tombs.where(ConsentTombstone.consent_id == consent_id)
        versions: dict[str, list[ConsentRecord]] = {}
        for record in session.execute(query).scalars():
            versions.setdefault(record.consent_id, []).append(record)
        return cls(versions, set(session.execute(tombs).scalars()))


def apply_row(
    session: Session,
    raw: dict[str, str],
    keys: KeyRing,
    vault_keys: KeyRing,
    actor: str,
    source: str,
    known: Known | None = None,
) -> bool:
    """Record one consent form row as a new version; False when already recorded; ValueError when refused."""
    row = _parse(raw, keys)
    known = known or Known.load(session, row.consent_id)
    if row.consent_id in known.purged:
        return False  # withdrawn or expired and purged: only a new consent id starts again
    versions = known.versions.get(row.consent_id, [])
    current = versions[0] if versions else None
    if any(v.row_digest in row.known_digests for v in versions) or (
        current is not None and _same(current, row)
    ):
        return False
    status = _transition(current, row)
    version = (current.version + 1) if current else 1
    record = ConsentRecord(
        consent_id=row.consent_id,
        version=version,
        resident=row.resident,
        scope_partners=row.partners,
        scope_sectors=row.sectors,
        purpose=row.purpose,
        granted_on=row.granted_on,
        expires_on=row.expires_on,
        withdrawn_on=row.withdrawn_on,
        method=row.method,
        evidence_ref=row.evidence_ref or None,
        proxy_relation=row.proxy_relation or None,
        proxy_ciphertext=seal_bytes(vault_keys, row.consent_id, row.proxy_name.encode())
        if row.proxy_name
        else None,
        status=status,
        recorded_at=utcnow(),
        recorded_by=actor,
        source=source,
        row_digest=row.digest,
    )
    session.add(record)
    known.versions[row.consent_id] = [record, *versions]
    audit.append(
        session, actor, "consent_change", row.consent_id, version=version, status=status, source=source
    )
    session.flush()
    return True


def import_rows(
    rows: list[dict[str, str]],
    session: Session,
    keys: KeyRing,
    vault_keys: KeyRing,
    actor: str,
    source: str,
    *,
    first_line: int = 2,
    known: Known | None = None,
    result: ImportResult | None = None,
) -> ImportResult:
    """Import a form's rows (the first on `first_line`); contradicting rows are refused, the others recorded.

    A long import passes the same `known` and `result` with each chunk of rows.
    """
    result = result if result is not None else ImportResult()
    known = known if known is not None else Known.load(session)
    for line, raw in enumerate(rows, start=first_line):
        consent_id = (raw.get("consent_id") or "").strip() or "?"
        try:
            added = apply_row(session, raw, keys, vault_keys, actor, source, known)
        except ValueError as problem:
            result.refused.append((consent_id, line, str(problem)))
            continue
        result.added += added
        result.unchanged += not added
        result.accepted.append((consent_id, line, ADDED if added else UNCHANGED))
    return result


def import_file(path: Path, session: Session, keys: KeyRing, vault_keys: KeyRing, actor: str) -> ImportResult:
    """Import one consent file; the same file twice changes nothing; contradicting rows are refused."""
    return import_rows(read_rows(path), session, keys, vault_keys, actor, path.name)


def preview(
    rows: list[dict[str, str]], session: Session, keys: KeyRing, vault_keys: KeyRing, actor: str, source: str
) -> ImportResult:
    """What importing these rows would do, with nothing written (run in a rolled-back savepoint)."""
    savepoint = session.begin_nested()
    try:
        return import_rows(rows, session, keys, vault_keys, actor, source)
    finally:
        savepoint.rollback()


def consent_files(folder: Path) -> list[Path]:
    """Consent files in import order (by name, which carries the date)."""
    return sorted(folder.glob("*.csv")) if folder.is_dir() else []


def due_files(folder: Path, run_date: dt.date) -> list[Path]:
    """Consent files in import order, leaving out those whose name is dated after the run date."""
    due = []
    for path in consent_files(folder):
        stamp = "".join(ch for ch in path.stem if ch.isdigit())[-8:]
        if len(stamp) == 8 and stamp > run_date.strftime("%Y%m%d"):
            continue
        due.append(path)
    return due
