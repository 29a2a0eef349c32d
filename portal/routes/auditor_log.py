"""The auditor's audit log: the search form with the chain's state, audited searches, paging and CSV."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import audit_search
from portal.app import page
from portal.deps import context_of, db_session
from portal.policy import Grant, require
from portal.templating import templates
from warehouse.errors import InputError
from warehouse.models import WatchlistEntry

router = APIRouter(include_in_schema=False)


def _jst(moment: dt.datetime) -> str:
    """A UTC time from the log, in JST for the page."""
    return f"{moment + audit_search.JST:%Y-%m-%d %H:%M:%S}"


templates.env.filters["jst"] = _jst
templates.env.filters["detail_text"] = audit_search.detail_text


def _form(
    actor: str = Form("", max_length=80),
    action: str = Form("", max_length=40),
    since: str = Form("", max_length=10),
    until: str = Form("", max_length=10),
    entry_id: str = Form("", max_length=40),
    resident: str = Form("", max_length=60),
) -> dict[str, str]:
    return {
        "actor": actor,
        "action": action,
        "since": since,
        "until": until,
        "entry_id": entry_id,
        "resident": resident,
    }


def _listings(db: Session, wanted: audit_search.AuditFilter) -> list[WatchlistEntry]:
    """The resident's list entries (in the date range, if one is given): the evidence to open."""
    if not wanted.resident:
        return []
    query = select(WatchlistEntry).where(WatchlistEntry.resident == wanted.resident)
    if wanted.since:
        query = query.where(WatchlistEntry.run_date >= wanted.since)
    if wanted.until:
        query = query.where(WatchlistEntry.run_date <= wanted.until)
    return list(db.execute(query.order_by(WatchlistEntry.run_date)).scalars())


def _log_page(
    request: Request, db: Session, status: int = 200, form: dict[str, str] | None = None, **values: object
) -> Response:
    context = context_of(request)
    return page(
        request,
        "auditor/log.html",
        status,
        state=audit_search.chain_state(db, context.settings),
        actions=audit_search.actions(db),
        action_names=audit_search.ACTION_NAMES,
        form=form or {},
        **values,
    )


def _parsed(request: Request, db: Session, form: dict[str, str]) -> audit_search.AuditFilter | Response:
    """The filter, or the form again with the error (422; a resident number is never shown back)."""
    try:
        return audit_search.parse_filter(form, context_of(request).settings.pseudonym_keys)
    except InputError as problem:
        return _log_page(request, db, 422, {**form, "resident": ""}, error=str(problem))


@router.get("/audit")
def audit_log(
    request: Request, grant: Grant = require("audit_read"), db: Session = Depends(db_session)
) -> Response:
    """The search form, the chain's verification state and the newest signed head."""
    return _log_page(request, db)


@router.post("/audit")
def audit_search_page(
    request: Request,
    form: dict[str, str] = Depends(_form),
    page_number: int = Form(1, alias="page", ge=1, le=100000),
    grant: Grant = require("audit_read"),
    db: Session = Depends(db_session),
) -> Response:
    """One page of matching records, newest first; the search is itself audited."""
    context = context_of(request)
    wanted = _parsed(request, db, form)
    if isinstance(wanted, Response):
        return wanted
    found = audit_search.search(db, wanted, page_number)
    audit_search.record_search(db, grant.actor, wanted, "page", found.page)
    shown = {
        **form,
        "resident": wanted.resident,
        "since": str(wanted.since or ""),
        "until": str(wanted.until or ""),
    }
    return _log_page(
        request,
        db,
        form=shown,
        wanted=wanted,
        found=found,
        listings=_listings(db, wanted),
        searched_at=context.clock() + audit_search.JST,
    )


@router.post("/audit/export.csv")
def audit_export(
    request: Request,
    form: dict[str, str] = Depends(_form),
    grant: Grant = require("audit_export"),
    db: Session = Depends(db_session),
) -> Response:
    """Every matching record as CSV; the export is itself audited."""
    context = context_of(request)
    wanted = _parsed(request, db, form)
    if isinstance(wanted, Response):
        return wanted
    body = audit_search.to_csv(db, wanted)
    audit_search.record_search(db, grant.actor, wanted, "csv")
    stamp = f"{context.clock() + audit_search.JST:%Y%m%d-%H%M}"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="mimamori_audit_{stamp}.csv"'},
    )
