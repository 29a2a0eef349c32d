"""Steward page for the provision log (APPI Art. 29/30): a partner and period, on screen and as CSV."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from consent.provision import LogEntry, as_csv, entries
from portal.app import page
from portal.deps import context_of, db_session
from portal.policy import Grant, require

router = APIRouter(include_in_schema=False)
DATE_PATTERN = r"^(\d{4}-\d{2}-\d{2})?$"  # one Query object per parameter: FastAPI binds it to one name
PARTNER = Query("", max_length=80, pattern=r"^[a-z0-9_-]*$")


def _found(
    request: Request, db: Session, partner: str, start: str, end: str
) -> tuple[dt.date, dt.date, list[LogEntry]]:
    first, last = _period(request, start, end)
    return first, last, entries(db, partner or None, first, last)


def _period(request: Request, start: str, end: str) -> tuple[dt.date, dt.date]:
    today = (context_of(request).clock() + dt.timedelta(hours=9)).date()
    try:
        last = dt.date.fromisoformat(end) if end else today
        first = dt.date.fromisoformat(start) if start else last.replace(day=1)
    except ValueError:
        raise HTTPException(422, "日付が正しくありません / invalid date") from None
    if first > last:
        raise HTTPException(422, "開始日が終了日より後です / the period starts after it ends")
    return first, last


@router.get("/steward/provision")
def provision(
    request: Request,
    partner: str = PARTNER,
    start: str = Query("", pattern=DATE_PATTERN),
    end: str = Query("", pattern=DATE_PATTERN),
    grant: Grant = require("steward_read"),
    db: Session = Depends(db_session),
) -> Response:
    """The records of provision for a partner (or all) and a period (this month by default)."""
    first, last, found = _found(request, db, partner, start, end)
    return page(
        request,
        "steward/provision.html",
        found=found,
        partner=partner,
        start=first,
        end=last,
        names=context_of(request).partner_names(),
    )


@router.get("/steward/provision.csv")
def provision_csv(
    request: Request,
    partner: str = PARTNER,
    start: str = Query("", pattern=DATE_PATTERN),
    end: str = Query("", pattern=DATE_PATTERN),
    grant: Grant = require("steward_read"),
    db: Session = Depends(db_session),
) -> Response:
    """The same records as CSV for Excel (UTF-8 with BOM)."""
    first, last, found = _found(request, db, partner, start, end)
    body = as_csv(found).encode("utf-8")
    name = f"provision_{partner or 'all'}_{first}_{last}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
