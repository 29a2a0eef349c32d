"""The JSON API /api/v1: session, district lists, entries and outcomes, under the same policy as the pages."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from portal import queries
from portal.accounts import AccountLocked, SignInFailed
from portal.deps import SESSION_COOKIE, context_of, db_session
from portal.policy import Grant, require
from portal.signin import clear_session_cookie, open_session, retry_after, set_session_cookie
from portal.websessions import end_session
from warehouse.errors import InputError
from watchlist.outcomes import OUTCOMES

router = APIRouter(prefix="/api/v1", tags=["v1"])
ENTRY_ID = Path(..., max_length=40, pattern=r"^[A-Za-z0-9_-]+$")


class SignIn(BaseModel):
    """Credentials; `otp` is the six-digit code when a second factor is set up."""

    login: str = Field(max_length=64)
    password: str = Field(max_length=256)
    otp: str | None = Field(default=None, max_length=12)


class OutcomeIn(BaseModel):
    """An outreach outcome; the visitor is the signed-in account."""

    outcome: str = Field(description="one of: " + ", ".join(OUTCOMES), max_length=30)
    visited_on: dt.date
    follow_up_on: dt.date | None = None
    note: str | None = Field(default=None, max_length=2000)


def _json_only(request: Request) -> None:
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise HTTPException(415, "Content-Type: application/json が必要です / JSON body required")


@router.post("/session", dependencies=[require("public")], responses={401: {}, 429: {}})
def session_open(
    request: Request, body: SignIn, response: Response, db: Session = Depends(db_session)
) -> dict[str, str]:
    """Sign in: a session cookie and the CSRF token that state-changing calls send as X-CSRF-Token."""
    _json_only(request)
    context = context_of(request)
    try:
        session_id, live = open_session(
            db, context, body.login, body.password, body.otp, request.cookies.get(SESSION_COOKIE, "")
        )
    except AccountLocked as locked:
        raise HTTPException(
            429, str(locked), headers={"Retry-After": retry_after(locked, context.clock())}
        ) from None
    except SignInFailed as failed:
        raise HTTPException(401, str(failed)) from None
    set_session_cookie(response, context, session_id)
    return {"csrf_token": live.csrf_token}


@router.delete("/session", status_code=204)
def session_close(
    request: Request, grant: Grant = require("api_session"), db: Session = Depends(db_session)
) -> Response:
    """Sign out (X-CSRF-Token required)."""
    context = context_of(request)
    assert grant.principal is not None
    end_session(db, grant.principal.session_id, context.clock())
    response = Response(status_code=204)
    clear_session_cookie(response, context)
    return response


@router.get("/lists/{date}", responses={404: {}})
def district_list(
    request: Request,
    date: dt.date,
    district: str | None = Query(None, max_length=16),
    grant: Grant = require("api_list_read"),
    db: Session = Depends(db_session),
) -> dict[str, Any]:
    """One district's list (the only district when the account has one); 404 outside your districts."""
    if district is None:
        if len(grant.districts) != 1:
            raise HTTPException(422, "district を指定してください / district is required")
        district = grant.districts[0]
    found = queries.district_list(
        db, context_of(request), date, district, grant.districts, grant.actor, "api"
    )
    if found is None:
        raise HTTPException(404, "見つかりません / not found")
    done = queries.handled(db, [e.entry_id for e in found.entries])
    entries = [{**dataclasses.asdict(e), "handled": e.entry_id in done} for e in found.entries]
    return {
        "district": district,
        "district_name": found.district_name,
        "date": found.date,
        "rule_set_version": found.rule_set_version,
        "notices": found.notices,
        "entries": entries,
    }


@router.get("/entries/{entry_id}", responses={404: {}})
def entry(
    request: Request,
    entry_id: str = ENTRY_ID,
    grant: Grant = require("api_entry_read"),
    db: Session = Depends(db_session),
) -> dict[str, Any]:
    """One entry with its reasons, the person's listings and outcomes of the last 90 days."""
    view = queries.entry_view(db, context_of(request), entry_id, grant.districts, grant.actor, "api")
    if view is None:
        raise HTTPException(404, "見つかりません / not found")
    return {
        **dataclasses.asdict(view.entry),
        "run_date": view.run_date.isoformat(),
        "listings": [dataclasses.asdict(p) for p in view.listings],
        "outcomes": [dataclasses.asdict(o) for o in view.outcomes],
    }


@router.post("/entries/{entry_id}/outcomes", status_code=201, responses={404: {}, 422: {}})
def record_outcome(
    request: Request,
    body: OutcomeIn,
    entry_id: str = ENTRY_ID,
    grant: Grant = require("api_outcome_write"),
    db: Session = Depends(db_session),
) -> JSONResponse:
    """Record an outcome (201); a second one the same day corrects the first and keeps it as history."""
    _json_only(request)
    try:
        done = queries.record_outcome(
            db,
            context_of(request),
            entry_id,
            grant.districts,
            body.outcome,
            body.visited_on,
            body.follow_up_on,
            body.note,
            grant.actor,
        )
    except InputError as problem:
        raise HTTPException(422, str(problem)) from None
    if done is None:
        raise HTTPException(404, "見つかりません / not found")
    return JSONResponse(
        {
            "id": done.id,
            "entry_id": entry_id,
            "outcome": done.outcome,
            "visited_on": done.visited_on.isoformat(),
            "follow_up_on": done.follow_up_on.isoformat() if done.follow_up_on else None,
            "recorded_by": done.recorded_by,
            "corrects": done.corrects,
        },
        status_code=201,
    )


@router.get("/openapi.json", dependencies=[require("public")], include_in_schema=False)
def openapi(request: Request) -> dict[str, Any]:
    """The API's OpenAPI schema (served here; no documentation UI pulls anything from elsewhere)."""
    schema: dict[str, Any] = request.app.openapi()
    return schema
