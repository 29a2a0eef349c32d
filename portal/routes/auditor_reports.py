"""The auditor's reports: rule performance charts with their numbers, and delivery validation results."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import rule_stats
from portal.app import page
from portal.charts import TIER_COLOURS, Series, chart
from portal.deps import context_of, db_session
from portal.policy import Grant, require
from portal.templating import TIER_NAMES
from warehouse.models import Delivery, ValidationResult

router = APIRouter(include_in_schema=False)
TIERS = ("urgent", "high", "watch")
DELAY_BUCKETS = 8  # 0..6 days, then "7日以上"


def _label(day: dt.date) -> str:
    return f"{day.month}/{day.day}"


@router.get("/audit/rules")
def rules(
    request: Request,
    days: int = Query(90, ge=7, le=730),
    grant: Grant = require("rule_report_read"),
    db: Session = Depends(db_session),
) -> Response:
    """Per rule listings, visits and confirmed share; listings per tier per day per district; delays."""
    today = (context_of(request).clock() + dt.timedelta(hours=9)).date()
    since = today - dt.timedelta(days=days)
    points = rule_stats.rule_points(db, since)
    periods = sorted({p.period for ps in points.values() for p in ps})
    at = {rule: {p.period: p for p in ps} for rule, ps in points.items()}
    labels = [_label(p) for p in periods]
    share_chart = chart(
        "ルール別の確認率",
        labels,
        [Series(rule, [at[rule][p].share if p in at[rule] else None for p in periods]) for rule in points],
        percent=True,
        y_max=1.0,
    )
    listed_chart = chart(
        "ルール別の掲載数",
        labels,
        [Series(rule, [at[rule][p].listed if p in at[rule] else None for p in periods]) for rule in points],
    )
    tiers = rule_stats.tier_counts(db, since)
    tier_charts = {
        district: Markup(
            chart(
                f"地区 {district} の区分別掲載数",
                [_label(d) for d in by_day],
                [
                    Series(TIER_NAMES[t], [by_day[d].get(t, 0) for d in by_day], TIER_COLOURS[t])
                    for t in TIERS
                ],
                kind="bars",
            )
        )
        for district, by_day in tiers.items()
    }
    delays = rule_stats.emergency_delays(db, since)
    counted = Counter(min(d.days, DELAY_BUCKETS - 1) for d in delays)
    buckets = [f"{n}日" for n in range(DELAY_BUCKETS - 1)] + [f"{DELAY_BUCKETS - 1}日以上"]
    delay_chart = chart(
        "緊急通報となった訪問の検知までの日数",
        buckets,
        [Series("件数", [counted.get(n, 0) for n in range(DELAY_BUCKETS)], "#b3261e")],
        kind="bars",
    )
    return page(
        request,
        "auditor/rules.html",
        days=days,
        since=since,
        periods=periods,
        points=points,
        at=at,
        share_chart=Markup(share_chart),
        listed_chart=Markup(listed_chart),
        tiers=tiers,
        tier_charts=tier_charts,
        tier_order=TIERS,
        delays=delays,
        delay_chart=Markup(delay_chart),
        buckets=buckets,
        counted=counted,
    )


@router.get("/audit/validations")
def validations(
    request: Request,
    partner: str = Query("", max_length=80),
    grant: Grant = require("validation_read"),
    db: Session = Depends(db_session),
) -> Response:
    """Each delivery's validation result (the Data Docs, rendered here): partner, delivery id, verdict."""
    query = select(Delivery, ValidationResult).join(
        ValidationResult, ValidationResult.delivery_pk == Delivery.id
    )
    if partner:
        query = query.where(Delivery.partner_id == partner)
    rows = db.execute(query.order_by(Delivery.received_at.desc(), Delivery.id.desc()).limit(500)).tuples()
    partners = sorted(set(db.execute(select(Delivery.partner_id).distinct()).scalars()))
    return page(
        request,
        "auditor/validations.html",
        rows=list(rows),
        partner=partner,
        partners=partners,
        names=context_of(request).partner_names(),
    )
