"""The auditor's search of the audit log: filters, paging, CSV, and the chain's verification state.

A resident is searched by 宛名番号 or pseudonym; the number is turned into the pseudonym at once and never
kept, shown again or written anywhere: the search's own audit record names the pseudonym only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from identity.keys import KeyRing
from identity.pseudonym import is_pseudonym, pseudonymise
from mimamori.settings import Settings
from warehouse import audit, checkpoints
from warehouse.errors import AuditLogError, InputError
from warehouse.models import AuditRecord, WatchlistEntry
from watchlist.render import safe_cell

PAGE_SIZE = 50
JST = dt.timedelta(hours=9)
CSV_COLUMNS = ("seq", "at_jst", "actor", "action", "subject", "detail", "hash")
# The actions the log holds, in Japanese for the page (the code stays beside it, as the CSV keeps it).
ACTION_NAMES = {
    "reidentify": "氏名等の閲覧",
    "vault_read": "保管庫の読み出し",
    "outcome_note_read": "訪問メモの閲覧",
    "outcome_recorded": "訪問結果の記録",
    "outcome_corrected": "訪問結果の訂正",
    "watchlist_view": "リストの閲覧",
    "lineage_view": "根拠の系譜の閲覧",
    "audit_search": "監査ログの検索",
    "portal_sign_in": "サインイン",
    "account_locked": "アカウントのロック",
    "account_created": "アカウント作成",
    "account_disabled": "アカウント無効化",
    "account_districts_set": "担当地区の変更",
    "account_password_reset": "パスワード再設定",
    "account_totp_renewed": "二要素認証の再発行",
    "account_token_renewed": "トークンの再発行",
    "consent_change": "同意の変更",
    "link_review": "照合の確認",
    "quarantine_release": "隔離の解除",
    "quarantine_discard": "隔離の破棄",
    "purge": "消去",
    "purge_delivery": "配信からの消去",
    "purge_rows": "行の消去",
    "retention": "保持期間による削除",
    "inbox_delete": "受信箱の削除",
    "key_rotation": "鍵の更新",
}


@dataclass(frozen=True)
class AuditFilter:
    """What the auditor asked for; `resident` is always a pseudonym here (or empty)."""

    actor: str = ""
    action: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    entry_id: str = ""
    resident: str = ""

    def as_detail(self) -> dict[str, str]:
        """The filter as the search's own audit record keeps it (dates as text, empty fields left out)."""
        return {k: str(v) for k, v in asdict(self).items() if v}


def _date(text: str, label: str) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{label}の日付が正しくありません / invalid date: {label}") from None


def parse_filter(form: dict[str, str], pseudonym_keys: KeyRing) -> AuditFilter:
    """The filter from the search form; a 宛名番号 becomes its pseudonym (InputError on a bad field)."""
    resident = form.get("resident", "").strip()
    if resident and not is_pseudonym(resident):
        if not resident.isdigit() or len(resident) > 20:
            raise InputError("宛名番号（数字）または仮名を入力してください / a resident number or pseudonym")
        resident = pseudonymise(pseudonym_keys, resident)
    found = AuditFilter(
        actor=form.get("actor", "").strip(),
        action=form.get("action", "").strip(),
        since=_date(form.get("since", ""), "開始日"),
        until=_date(form.get("until", ""), "終了日"),
        entry_id=form.get("entry_id", "").strip(),
        resident=resident,
    )
    if found.since and found.until and found.until < found.since:
        raise InputError("終了日が開始日より前です / the end date is before the start date")
    return found


def _subjects(db: Session, wanted: AuditFilter) -> list[str] | None:
    """Subjects the entry or resident filter allows (None: no such filter)."""
    if not wanted.resident and not wanted.entry_id:
        return None
    subjects: set[str] = set()
    if wanted.resident:
        subjects.add(wanted.resident)
        subjects.update(
            db.execute(
                select(WatchlistEntry.entry_id).where(WatchlistEntry.resident == wanted.resident)
            ).scalars()
        )
    if wanted.entry_id:
        subjects = subjects & {wanted.entry_id} if wanted.resident else {wanted.entry_id}
    return sorted(subjects)


def _query(db: Session, wanted: AuditFilter) -> Select[Any]:
    query = select(AuditRecord)
    if wanted.actor:
        query = query.where(
            or_(AuditRecord.actor == wanted.actor, AuditRecord.actor == f"portal:{wanted.actor}")
        )
    if wanted.action:
        query = query.where(AuditRecord.action == wanted.action)
    # Dates are Japanese calendar days; records are kept in UTC.
    if wanted.since:
        query = query.where(AuditRecord.at >= dt.datetime.combine(wanted.since, dt.time()) - JST)
    if wanted.until:
        end = dt.datetime.combine(wanted.until + dt.timedelta(days=1), dt.time()) - JST
        query = query.where(AuditRecord.at < end)
    subjects = _subjects(db, wanted)
    if subjects is not None:
        query = query.where(AuditRecord.subject.in_(subjects))
    return query


@dataclass(frozen=True)
class Found:
    """One page of records, newest first, and how many match in all."""

    records: list[AuditRecord]
    total: int
    page: int
    pages: int


def search(db: Session, wanted: AuditFilter, page: int = 1, size: int = PAGE_SIZE) -> Found:
    """One page of matching records, newest first."""
    query = _query(db, wanted)
    total = int(db.execute(select(func.count()).select_from(query.subquery())).scalar_one())
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    rows = db.execute(query.order_by(AuditRecord.seq.desc()).offset((page - 1) * size).limit(size))
    return Found(list(rows.scalars()), total, page, pages)


def record_search(db: Session, actor: str, wanted: AuditFilter, how: str, page: int = 1) -> None:
    """Audit the search itself (the filter with the pseudonym, never a resident number)."""
    audit.append(db, actor, "audit_search", "audit_log", how=how, page=page, filter=wanted.as_detail())


def to_csv(db: Session, wanted: AuditFilter) -> bytes:
    """Every matching record as CSV (UTF-8 with BOM, oldest first, times in JST)."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in db.execute(_query(db, wanted).order_by(AuditRecord.seq)).scalars():
        detail = json.dumps(r.detail, ensure_ascii=False, sort_keys=True)
        row = (r.seq, f"{r.at + JST:%Y-%m-%d %H:%M:%S}", r.actor, r.action, r.subject, detail, r.hash)
        writer.writerow([safe_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def detail_text(value: Any) -> str:
    """A detail value for the page: lists joined, mappings as key=value (nested the same way)."""
    if isinstance(value, dict):
        return " ".join(f"{k}={detail_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ",".join(detail_text(v) for v in value)
    return "" if value is None else str(value)


def actions(db: Session) -> list[str]:
    """Every action the log holds, for the filter's choices."""
    return list(db.execute(select(AuditRecord.action).distinct().order_by(AuditRecord.action)).scalars())


@dataclass(frozen=True)
class ChainState:
    """Whether the chain and its signed checkpoints hold, and the newest signed head."""

    records: int
    head: str
    ok: bool
    problem: str | None
    signed: dict[str, Any] | None


def chain_state(db: Session, settings: Settings) -> ChainState:
    """Verify the chain and every signed checkpoint (public keys only), as `mimamori audit verify` does."""
    walked = audit.verify(db)
    folder = settings.path("audit")
    problem = None if walked.ok else f"record {walked.broken_at}: {walked.problem}"
    if problem is None:
        problem = checkpoints.verify(db, folder, settings.audit_public_keys)
    try:
        signed: dict[str, Any] | None = checkpoints.export_head(folder)
    except AuditLogError:
        signed = None
    return ChainState(walked.records, walked.head, problem is None, problem, signed)
