"""The district lists: today's cards, earlier dates, the A4 print view and the CSV and Excel downloads."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from portal import queries
from portal.app import page
from portal.deps import context_of, db_session
from portal.excel import MEDIA_TYPE, to_xlsx
from portal.policy import Grant, require
from watchlist.render import PublishedList, to_csv

router = APIRouter(include_in_schema=False)
DATE = Query(None, pattern=r"^\d{4}-\d{2}-\d{2}$")


def _day(db: Session, grant: Grant, date: str | None) -> tuple[dt.date | None, list[dt.date]]:
    dates = queries.list_dates(db, grant.districts)
    if date:
        try:
            return dt.date.fromisoformat(date), dates
        except ValueError:
            raise HTTPException(422, "日付が正しくありません / invalid date") from None
    return (dates[0] if dates else None), dates


def _one(
    request: Request, db: Session, grant: Grant, date: str | None, district: str, purpose: str
) -> PublishedList:
    day, _dates = _day(db, grant, date)
    if day is None:
        raise HTTPException(404, "リストがありません / no list")
    found = queries.district_list(
        db, context_of(request), day, district, grant.districts, grant.actor, purpose
    )
    if found is None:
        raise HTTPException(404, "見つかりません / not found")
    return found


@router.get("/lists")
def lists(
    request: Request,
    date: str | None = DATE,
    grant: Grant = require("list_read"),
    db: Session = Depends(db_session),
) -> Response:
    """My districts' lists for a date (the newest by default), urgent first, a card per person."""
    context = context_of(request)
    day, dates = _day(db, grant, date)
    shown = []
    if day is not None:
        for district in grant.districts:
            found = queries.district_list(db, context, day, district, grant.districts, grant.actor, "view")
            if found is not None:
                shown.append(found)
    done = queries.handled(db, [e.entry_id for listed in shown for e in listed.entries])
    return page(
        request,
        "lists.html",
        day=day,
        dates=dates,
        lists=shown,
        done=done,
        contacts=context.municipality().contacts,
    )


@router.get("/lists/print")
def print_view(
    request: Request,
    district: str = Query(..., max_length=16),
    date: str | None = DATE,
    grant: Grant = require("list_export"),
    db: Session = Depends(db_session),
) -> Response:
    """One district's list on A4 with an empty column for handwritten results and the emergency contact."""
    found = _one(request, db, grant, date, district, "print")
    contact = context_of(request).municipality().contacts.get(district, "")
    return page(request, "print.html", listing=found, contact=contact)


@router.get("/lists/export.csv")
def export_csv(
    request: Request,
    district: str = Query(..., max_length=16),
    date: str | None = DATE,
    grant: Grant = require("list_export"),
    db: Session = Depends(db_session),
) -> Response:
    """One district's list as CSV (UTF-8 with BOM, every cell quoted; see watchlist.render.to_csv)."""
    found = _one(request, db, grant, date, district, "export")
    return _download(
        found, district, "csv", ("\ufeff" + to_csv(found)).encode("utf-8"), "text/csv; charset=utf-8"
    )


@router.get("/lists/export.xlsx")
def export_xlsx(
    request: Request,
    district: str = Query(..., max_length=16),
    date: str | None = DATE,
    grant: Grant = require("list_export"),
    db: Session = Depends(db_session),
) -> Response:
    """One district's list for Excel: the CSV's columns as text cells (宛名番号 keep their leading zeros)."""
    found = _one(request, db, grant, date, district, "export")
    return _download(found, district, "xlsx", to_xlsx(found), MEDIA_TYPE)


def _download(found: PublishedList, district: str, suffix: str, body: bytes, media_type: str) -> Response:
    """A district's list as an attachment named by its date and district."""
    filename = f"mimamori_{found.date}_{district}.{suffix}"
    return Response(
        body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
