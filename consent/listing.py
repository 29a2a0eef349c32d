"""The consent book as a steward reads it: statuses in Japanese, filters, and one person's history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.book import latest_records
from warehouse.errors import InputError
from warehouse.models import ConsentRecord, ConsentTombstone

EXPIRED = "expired"
# status -> Japanese label; `expired` is computed (an expiry date in the past), the others are stored.
STATUS_LABELS = {
    "given": "同意",
    "renewed": "更新",
    "withdrawn": "撤回",
    "revoked": "取消（市）",
    EXPIRED: "期限切れ",
}
METHOD_LABELS = {"paper": "書面", "online": "オンライン", "proxy": "代理人"}
HEADER = ("同意ID", "状態", "版", "同意日", "有効期限", "事業者", "分野", "方法")


def current_status(record: ConsentRecord, today: dt.date) -> str:
    """The status a steward sees today: `expired` once the expiry date has passed (unless withdrawn)."""
    if record.withdrawn_on is None and record.expires_on is not None and record.expires_on < today:
        return EXPIRED
    return record.status


def check_status(status: str | None) -> None:
    """Refuse a status filter that no consent can have (rather than answering "none match")."""
    if status is not None and status not in STATUS_LABELS:
        known = "、".join(f"{k}（{v}）" for k, v in STATUS_LABELS.items())
        raise InputError(f"状態 {status!r} はありません。次のいずれかです: {known} / unknown status")


def select_consents(
    session: Session, today: dt.date, status: str | None = None, expiring_within: int | None = None
) -> list[ConsentRecord]:
    """The current version of every consent matching a status and/or an expiry within N days."""
    check_status(status)
    if expiring_within is not None and expiring_within < 0:
        raise InputError("日数は 0 以上で指定してください / --expiring-within must be 0 or more")
    found = []
    for record in latest_records(session):
        if status and current_status(record, today) != status:
            continue
        if expiring_within is not None and not (
            record.withdrawn_on is None
            and record.expires_on
            and 0 <= (record.expires_on - today).days <= expiring_within
        ):
            continue
        found.append(record)
    return found


def row(record: ConsentRecord, today: dt.date) -> tuple[str, ...]:
    """One consent as the cells under HEADER (no identity: the resident is a pseudonym, not shown)."""
    status = current_status(record, today)
    return (
        record.consent_id,
        STATUS_LABELS.get(status, status),
        f"v{record.version}",
        record.granted_on.isoformat(),
        record.expires_on.isoformat() if record.expires_on else "-",
        ",".join(record.scope_partners),
        ",".join(record.scope_sectors),
        METHOD_LABELS.get(record.method, record.method),
    )


@dataclass(frozen=True)
class History:
    """Every consent of one person (pseudonym), each with all its versions, and their tombstones."""

    resident: str
    consents: dict[str, list[ConsentRecord]]
    tombstones: list[ConsentTombstone]


def history_of(session: Session, resident: str) -> History:
    """All versions of every consent of one pseudonymous resident, oldest first."""
    records = session.execute(
        select(ConsentRecord)
        .where(ConsentRecord.resident == resident)
        .order_by(ConsentRecord.consent_id, ConsentRecord.version)
    ).scalars()
    consents: dict[str, list[ConsentRecord]] = {}
    for record in records:
        consents.setdefault(record.consent_id, []).append(record)
    tombs = session.execute(select(ConsentTombstone).where(ConsentTombstone.resident == resident)).scalars()
    return History(resident, consents, list(tombs))


def resident_of(session: Session, consent_id: str) -> str | None:
    """The pseudonym a consent id belongs to (also after a purge, from its tombstone)."""
    found = session.execute(
        select(ConsentRecord.resident).where(ConsentRecord.consent_id == consent_id).limit(1)
    ).scalar_one_or_none()
    if found is None:
        tomb = session.get(ConsentTombstone, consent_id)
        return tomb.resident if tomb is not None else None
    return found


def table(records: Sequence[ConsentRecord], today: dt.date) -> list[tuple[str, ...]]:
    """HEADER and a row per consent."""
    return [HEADER, *(row(r, today) for r in records)]
