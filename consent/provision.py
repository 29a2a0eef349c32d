"""Records of provision (APPI Art. 29/30): who provided which data about how many residents, on what basis."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from warehouse.models import ProvisionRecord

KEEP_YEARS = 3
BASIS = "本人の同意（個人情報保護法第27条第1項）/ prior consent of the person (APPI Art. 27(1))"
# The categories of personal data each sector provides (never diagnoses, medication or free text).
CATEGORIES = {
    "delivery": ["配達時の受取・応答の状況 / delivery and answer-at-the-door events"],
    "utility": ["電気・ガス・水道の使用量 / meter readings", "料金の支払い状況 / billing events"],
    "insurer": ["入退院・請求・保険料の状況 / admission, claim and premium events"],
    "clinic": ["受診・処方薬受取の状況（診断・薬剤名を含まない）/ attendance events, no diagnosis"],
}


def record(
    session: Session,
    delivery_pk: int,
    partner_id: str,
    sector: str,
    received: dt.date,
    signals: pd.DataFrame,
    keep_years: int = KEEP_YEARS,
) -> ProvisionRecord:
    """Write (or replace) the record of provision of one delivery."""
    entry = session.get(ProvisionRecord, delivery_pk) or ProvisionRecord(delivery_pk=delivery_pk)
    entry.partner_id, entry.received_on, entry.categories = partner_id, received, CATEGORIES[sector]
    entry.residents = int(signals["resident"].nunique()) if not signals.empty else 0
    entry.rows = len(signals)
    entry.consent_ids = int(signals["consent_id"].nunique()) if not signals.empty else 0
    entry.basis = BASIS
    entry.keep_until = (
        received.replace(year=received.year + keep_years)
        if not (received.month == 2 and received.day == 29)
        else received + dt.timedelta(days=365 * keep_years)
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
