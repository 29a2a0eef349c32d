"""Steward page for the feeds: a partner x day grid of the last 14 run dates, each cell opens its delivery."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mimamori import stewardship
from portal.app import page
from portal.deps import context_of, db_session
from portal.policy import Grant, require
from warehouse.models import FeedHealth

router = APIRouter(include_in_schema=False)


@router.get("/steward/feeds")
def feeds(
    request: Request, grant: Grant = require("steward_read"), db: Session = Depends(db_session)
) -> Response:
    """Received, late, incomplete, missing or quarantined per partner and day; no-consent rises flagged."""
    newest = db.execute(select(func.max(FeedHealth.day))).scalar_one_or_none()
    last = newest or (context_of(request).clock() + dt.timedelta(hours=9)).date()
    grid = stewardship.feed_grid(db, last)
    return page(
        request,
        "steward/feeds.html",
        grid=grid,
        labels=stewardship.FEED_LABELS,
        names=context_of(request).partner_names(),
    )
