"""An entry's page (reasons, 90 days of listings and outcomes) and the outcome form."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from portal import queries
from portal.app import page
from portal.deps import context_of, db_session
from portal.formdates import form_date
from portal.policy import Grant, require
from warehouse.errors import InputError

router = APIRouter(include_in_schema=False)
ENTRY_ID = Path(..., max_length=40, pattern=r"^[A-Za-z0-9_-]+$")


def _entry_page(
    request: Request, db: Session, grant: Grant, entry_id: str, status: int = 200, **values: object
) -> Response:
    context = context_of(request)
    view = queries.entry_view(db, context, entry_id, grant.districts, grant.actor, "view")
    if view is None:
        raise HTTPException(404, "見つかりません / not found")
    today = (context.clock() + dt.timedelta(hours=9)).date()
    rules = context.rules()
    quiet = {"safe": rules.quiet_days, "support": rules.support_quiet_days}
    return page(request, "entry.html", status, view=view, today=today, quiet=quiet, **values)


@router.get("/entries/{entry_id}")
def entry(
    request: Request,
    entry_id: str = ENTRY_ID,
    saved: int = 0,
    grant: Grant = require("entry_read"),
    db: Session = Depends(db_session),
) -> Response:
    """All reasons with sources, the last 90 days, and the outcome form."""
    return _entry_page(request, db, grant, entry_id, saved=bool(saved))


@router.post("/entries/{entry_id}/outcomes")
def record(
    request: Request,
    entry_id: str = ENTRY_ID,
    outcome: str = Form(..., max_length=30),
    visited_on: str = Form(..., max_length=10),
    follow_up_on: str = Form("", max_length=10),
    note: str = Form("", max_length=2000),
    grant: Grant = require("outcome_write"),
    db: Session = Depends(db_session),
) -> Response:
    """Record what the visit found (the visitor is the signed-in user); back to the entry page."""
    context = context_of(request)
    try:
        visited = form_date(visited_on, "訪問日")
        follow = form_date(follow_up_on, "次回確認日", required=False)
        done = queries.record_outcome(
            db, context, entry_id, grant.districts, outcome, visited, follow, note, grant.actor
        )
    except InputError as problem:
        return _entry_page(request, db, grant, entry_id, 422, error=str(problem))
    if done is None:
        raise HTTPException(404, "見つかりません / not found")
    return RedirectResponse(f"/entries/{entry_id}?saved=1", status_code=303)
