"""Feed health: per partner and run date, was the day's delivery on time, late, missing or quarantined."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.registry import Partner
from warehouse.models import Delivery, FeedHealth
from warehouse.vocabulary import DeliveryStatus, FeedStatus

ON_TIME, LATE, MISSING = FeedStatus.ON_TIME, FeedStatus.LATE, FeedStatus.MISSING
QUARANTINED, WAITING = FeedStatus.QUARANTINED, FeedStatus.LATE_INCOMPLETE
# Only a received feed can say that a resident was silent.
RECEIVED = frozenset({ON_TIME, LATE})


def _status(deliveries: Iterable[Delivery], partner: Partner, run_date: dt.date) -> tuple[str, int]:
    due = dt.datetime.combine(run_date, partner.due_by)
    loaded = [d for d in deliveries if d.status == DeliveryStatus.LOADED]
    if loaded:
        on_time = all(d.created_at is None or d.created_at <= due for d in loaded)
        return (ON_TIME if on_time else LATE), sum(d.rows_loaded for d in loaded)
    if any(d.status == DeliveryStatus.QUARANTINED for d in deliveries):
        return QUARANTINED, 0
    if any(d.status == DeliveryStatus.WAITING for d in deliveries):
        return WAITING, 0  # arrived but incomplete past the due time: late, and not yet readable
    return MISSING, 0


def assess(session: Session, partners: dict[str, Partner], run_date: dt.date) -> dict[str, str]:
    """Record each partner's feed status for the run date (the delivery covering the day before)."""
    start = dt.datetime.combine(run_date, dt.time())
    found = session.execute(
        select(Delivery).where(
            Delivery.period_end > start - dt.timedelta(hours=1), Delivery.period_end <= start
        )
    ).scalars()
    by_partner: dict[str, list[Delivery]] = {}
    for delivery in found:
        by_partner.setdefault(delivery.partner_id, []).append(delivery)
    result = {}
    for partner in sorted(partners.values(), key=lambda p: p.id):
        if not partner.agreement_valid(run_date - dt.timedelta(days=1)):
            continue
        status, rows = _status(by_partner.get(partner.id, []), partner, run_date)
        session.merge(
            FeedHealth(partner_id=partner.id, day=run_date, sector=partner.sector, status=status, rows=rows)
        )
        result[partner.id] = str(status)
    session.flush()
    return result


def statuses(session: Session, run_date: dt.date) -> dict[str, str]:
    """The recorded feed status of every partner for a run date."""
    rows = session.execute(select(FeedHealth).where(FeedHealth.day == run_date)).scalars()
    return {r.partner_id: r.status for r in rows}
