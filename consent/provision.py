"""Records of provision (APPI Art. 29/30): who provided which data about how many residents, on what basis.

A delivery's record is written when it loads; rows of it a steward accepts later in link review are an
amendment beside it (naming the delivery), never a silent rewrite of the original.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from warehouse.models import HeldRows, ProvisionAmendment, ProvisionRecord

KEEP_YEARS = 3
BASIS = "本人の同意（個人情報保護法第27条第1項）/ prior consent of the person (APPI Art. 27(1))"
# The categories of personal data each sector provides (never diagnoses, medication or free text).
CATEGORIES = {
    "delivery": ["配達時の受取・応答の状況 / delivery and answer-at-the-door events"],
    "utility": ["電気・ガス・水道の使用量 / meter readings", "料金の支払い状況 / billing events"],
    "insurer": ["入退院・請求・保険料の状況 / admission, claim and premium events"],
    "clinic": ["受診・処方薬受取の状況（診断・薬剤名を含まない）/ attendance events, no diagnosis"],
}


def keep_until(day: dt.date, keep_years: int = KEEP_YEARS) -> dt.date:
    """The date a record written on `day` is kept until (29 February counts as 365 days a year)."""
    if day.month == 2 and day.day == 29:
        return day + dt.timedelta(days=365 * keep_years)
    return day.replace(year=day.year + keep_years)


def _counts(signals: pd.DataFrame) -> tuple[int, int, int]:
    """Residents, rows and consents of a frame of signals."""
    if signals.empty:
        return 0, 0, 0
    return int(signals["resident"].nunique()), len(signals), int(signals["consent_id"].nunique())


def record(
    session: Session,
    delivery_pk: int,
    partner_id: str,
    sector: str,
    received: dt.date,
    signals: pd.DataFrame,
    keep_years: int = KEEP_YEARS,
) -> ProvisionRecord:
    """Write (or replace, when the delivery is loaded again) the record of provision of one delivery."""
    entry = session.get(ProvisionRecord, delivery_pk) or ProvisionRecord(delivery_pk=delivery_pk)
    entry.partner_id, entry.received_on, entry.categories = partner_id, received, CATEGORIES[sector]
    entry.residents, entry.rows, entry.consent_ids = _counts(signals)
    entry.basis = BASIS
    entry.keep_until = keep_until(received, keep_years)
    session.add(entry)
    return entry


def amend(
    session: Session,
    held: HeldRows,
    review_id: int,
    sector: str,
    amended: dt.date,
    signals: pd.DataFrame,
    keep_years: int = KEEP_YEARS,
) -> ProvisionAmendment | None:
    """Record the rows of a delivery released by an accepted link review as an amendment of its record."""
    original = session.get(ProvisionRecord, held.delivery_pk)
    if original is None or signals.empty:
        return None
    residents, rows, consent_ids = _counts(signals)
    entry = ProvisionAmendment(
        amends=held.delivery_pk,
        held_pk=held.id,
        review_id=review_id,
        partner_id=original.partner_id,
        received_on=original.received_on,
        amended_on=amended,
        categories=CATEGORIES[sector],
        residents=residents,
        rows=rows,
        consent_ids=consent_ids,
        basis=BASIS,
        keep_until=keep_until(amended, keep_years),
    )
    session.add(entry)
    return entry


def log(session: Session, partner_id: str | None, start: dt.date, end: dt.date) -> list[ProvisionRecord]:
    """Records of provision received between two dates (inclusive), for one partner or all."""
    query = select(ProvisionRecord).where(
        ProvisionRecord.received_on >= start, ProvisionRecord.received_on <= end
    )
    if partner_id:
        query = query.where(ProvisionRecord.partner_id == partner_id)
    return list(
        session.execute(query.order_by(ProvisionRecord.received_on, ProvisionRecord.partner_id)).scalars()
    )


def amendments(
    session: Session, partner_id: str | None, start: dt.date, end: dt.date
) -> list[ProvisionAmendment]:
    """Amendments written between two dates (inclusive), for one partner or all."""
    query = select(ProvisionAmendment).where(
        ProvisionAmendment.amended_on >= start, ProvisionAmendment.amended_on <= end
    )
    if partner_id:
        query = query.where(ProvisionAmendment.partner_id == partner_id)
    return list(
        session.execute(query.order_by(ProvisionAmendment.amended_on, ProvisionAmendment.id)).scalars()
    )


@dataclass(frozen=True)
class LogEntry:
    """One line of the provision log: a record, or an amendment naming the delivery it adds to."""

    day: dt.date
    partner_id: str
    residents: int
    rows: int
    consent_ids: int
    categories: tuple[str, ...]
    basis: str
    keep_until: dt.date
    amends: str = ""  # "PARTNER/DELIVERY received YYYY-MM-DD (review #N)" for an amendment
    received_on: dt.date | None = None
    review_id: int | None = None


CSV_HEADER = ("日付", "事業者", "種別", "人数", "行数", "同意数", "項目", "根拠", "保存期限", "訂正の対象")


def entries(session: Session, partner_id: str | None, start: dt.date, end: dt.date) -> list[LogEntry]:
    """Records and amendments between two dates, in date order (the provision log of APPI Art. 29/30)."""
    from warehouse.models import Delivery

    found = [
        LogEntry(
            r.received_on,
            r.partner_id,
            r.residents,
            r.rows,
            r.consent_ids,
            tuple(r.categories),
            r.basis,
            r.keep_until,
        )
        for r in log(session, partner_id, start, end)
    ]
    for a in amendments(session, partner_id, start, end):
        delivery = session.get(Delivery, a.amends)
        ref = f"{a.partner_id}/{delivery.delivery_id}" if delivery is not None else str(a.amends)
        found.append(
            LogEntry(
                a.amended_on,
                a.partner_id,
                a.residents,
                a.rows,
                a.consent_ids,
                tuple(a.categories),
                a.basis,
                a.keep_until,
                ref,
                a.received_on,
                a.review_id,
            )
        )
    return sorted(found, key=lambda e: (e.day, bool(e.amends), e.partner_id))


def as_csv(found: list[LogEntry]) -> str:
    """The log as CSV for Excel: UTF-8 with BOM, every cell quoted."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for e in found:
        writer.writerow(
            (
                e.day.isoformat(),
                e.partner_id,
                "訂正" if e.amends else "提供",
                e.residents,
                e.rows,
                e.consent_ids,
                "／".join(e.categories),
                e.basis,
                e.keep_until.isoformat(),
                f"{e.amends}（{e.received_on} 受領・確認 #{e.review_id}）" if e.amends else "",
            )
        )
    return "\ufeff" + out.getvalue()
