"""Steward pages for consents: search (audited), a person's history and receipts, withdraw, renew,
import a form with a preview before anything is written, and consents expiring soon."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from consent import listing, uploads
from consent import steward as consent_steward
from consent.importer import import_rows, parse_form, preview
from identity.rotation import active_pseudonym_keys
from mimamori import stewardship
from portal.app import page
from portal.deps import context_of, db_session
from portal.formdates import form_date
from portal.policy import Grant, require
from portal.routes.steward_disclosure import standalone
from warehouse import audit
from warehouse.errors import InputError, MimamoriError
from warehouse.models import ConsentRecord

router = APIRouter(include_in_schema=False)
CONSENT_ID = Path(..., max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")
MAX_FORM_BYTES = 20 * 1024 * 1024
UPLOAD = File(...)


def _today(request: Request) -> dt.date:
    return (context_of(request).clock() + dt.timedelta(hours=9)).date()


def _consents_page(
    request: Request, db: Session, days: int = 30, status: int = 200, **values: object
) -> Response:
    today = _today(request)
    expiring = listing.select_consents(db, today, expiring_within=days)
    return page(
        request,
        "steward/consents.html",
        status,
        days=days,
        today=today,
        expiring=[listing.row(r, today) for r in expiring],
        header=listing.HEADER,
        **values,
    )


@router.get("/steward/consents")
def consents(
    request: Request,
    days: int = Query(30, ge=0, le=366),
    grant: Grant = require("steward_read"),
    db: Session = Depends(db_session),
) -> Response:
    """Search, import and the consents expiring within N days (no identities on this page)."""
    return _consents_page(request, db, days)


def _person(
    request: Request, db: Session, grant: Grant, resident: str, status: int = 200, **values: object
) -> Response:
    """A person's consent history and name (the vault read audited with the signed-in user)."""
    from identity.access import read_identities

    context = context_of(request)
    history = listing.history_of(db, resident)
    subject = ",".join(sorted(history.consents) + sorted(t.consent_id for t in history.tombstones))
    audit.append(db, grant.actor, "consent_search", subject or "no-match", found=len(history.consents))
    who = read_identities(
        db,
        context.settings.vault_keys,
        [resident],
        actor=grant.actor,
        purpose="consent_search",
        subject=subject or "no-match",
    ).get(resident, {})
    today = _today(request)
    return page(
        request,
        "steward/person.html",
        status,
        history=history,
        who=who,
        today=today,
        labels=listing.STATUS_LABELS,
        methods=listing.METHOD_LABELS,
        current=listing.current_status,
        **values,
    )


def _known(db: Session, resident: str) -> bool:
    history = listing.history_of(db, resident)
    return bool(history.consents or history.tombstones)


@router.post("/steward/consents/search")
def search(
    request: Request,
    query: str = Form(..., max_length=60),
    grant: Grant = require("steward_identity"),
    db: Session = Depends(db_session),
) -> Response:
    """Find a person by consent id or resident id (POST: the id never appears in a URL)."""
    context = context_of(request)
    query = query.strip()
    try:
        candidates = [stewardship.pseudonym_of(db, context.settings, query)] if query.isdigit() else []
        candidates.append(listing.resident_of(db, query) or "")  # a consent id (digits or not)
        resident = next((r for r in candidates if r and _known(db, r)), None)
        if resident is None:
            raise InputError("該当する同意はありません。同意IDか宛名番号を確かめてください / no match")
    except InputError as problem:
        audit.append(db, grant.actor, "consent_search", "no-match", found=0)
        return _consents_page(request, db, status=404, error=str(problem))
    return _person(request, db, grant, resident)


def _on_consent(
    request: Request, db: Session, grant: Grant, consent_id: str, act: Callable[[ConsentRecord], Response]
) -> Response:
    """Run a change on a consent's current version; its page again with the error when refused."""
    try:
        record = consent_steward.current(db, consent_id)
    except MimamoriError as problem:
        raise HTTPException(404, str(problem)) from None
    try:
        return act(record)
    except MimamoriError as problem:
        return _person(request, db, grant, record.resident, 422, error=str(problem))


@router.post("/steward/consents/{consent_id}/withdraw")
def withdraw(
    request: Request,
    consent_id: str = CONSENT_ID,
    on: str = Form(..., max_length=10),
    why: str = Form("", max_length=500),
    confirmed: str = Form("", max_length=3),
    grant: Grant = require("steward_write"),
    db: Session = Depends(db_session),
) -> Response:
    """Withdraw in two steps: the first answer asks to confirm, the second records (purge at next run)."""

    def act(record: ConsentRecord) -> Response:
        day = form_date(on, "撤回日")
        reason = " ".join(why.split())
        if len(reason) < stewardship.MIN_REASON:
            raise InputError("撤回の理由を入力してください / give a reason")
        if confirmed != "yes":
            return page(request, "steward/confirm_withdraw.html", record=record, on=day, why=reason)
        version = consent_steward.withdraw(db, consent_id, day, grant.actor, why=reason)
        return _person(
            request, db, grant, version.resident, done="withdrawn", done_id=consent_id, done_on=day
        )

    return _on_consent(request, db, grant, consent_id, act)


@router.post("/steward/consents/{consent_id}/renew")
def renew(
    request: Request,
    consent_id: str = CONSENT_ID,
    expires_on: str = Form(..., max_length=10),
    grant: Grant = require("steward_write"),
    db: Session = Depends(db_session),
) -> Response:
    """Extend a consent in force to a later expiry date."""

    def act(record: ConsentRecord) -> Response:
        version = consent_steward.renew(db, consent_id, form_date(expires_on, "有効期限"), grant.actor)
        return _person(request, db, grant, version.resident, done="renewed", done_id=consent_id)

    return _on_consent(request, db, grant, consent_id, act)


@router.get("/steward/consents/{consent_id}/receipt")
def receipt(
    request: Request,
    consent_id: str = CONSENT_ID,
    grant: Grant = require("steward_identity"),
    db: Session = Depends(db_session),
) -> Response:
    """The printable Japanese receipt for the resident (their name read from the vault, audited)."""
    try:
        html = stewardship.receipt_for(db, context_of(request).settings, consent_id, "html", grant.actor)
    except MimamoriError as problem:
        raise HTTPException(404, str(problem)) from None
    return standalone(html)


@router.post("/steward/consents/import")
async def import_preview(
    request: Request,
    form: UploadFile = UPLOAD,
    grant: Grant = require("steward_write"),
    db: Session = Depends(db_session),
) -> Response:
    """Read an uploaded form (UTF-8 or CP932) and show what importing it would do; nothing is written yet."""
    context = context_of(request)
    data = await form.read(MAX_FORM_BYTES + 1)
    name = (form.filename or "form.csv").rsplit("/", 1)[-1][:120]
    try:
        if len(data) > MAX_FORM_BYTES:
            raise InputError("ファイルが大きすぎます（20MB まで） / the form is larger than 20 MB")
        rows = parse_form(data, name)
        keys = active_pseudonym_keys(db, context.settings.pseudonym_keys)
        result = preview(rows, db, keys, context.settings.vault_keys, grant.actor, name)
    except InputError as problem:
        return _consents_page(request, db, status=422, error=str(problem))
    token = uploads.hold(context.settings, data, name)
    return page(
        request, "steward/import_preview.html", result=result, filename=name, token=token, rows=len(rows)
    )


@router.post("/steward/consents/import/commit")
def import_commit(
    request: Request,
    token: str = Form(..., max_length=80, pattern=r"^[0-9a-f]{64}$"),
    grant: Grant = require("steward_write"),
    db: Session = Depends(db_session),
) -> Response:
    """Import the previewed form: a small one at once, a large one as a job with a progress page."""
    from consent import forms
    from mimamori import steward_jobs

    context = context_of(request)
    try:
        data, name = uploads.peek(context.settings, token)
    except InputError as problem:
        return _consents_page(request, db, status=422, error=str(problem))
    rows = parse_form(data, name)
    if len(rows) > steward_jobs.INLINE_ROWS:
        job = steward_jobs.start(db, steward_jobs.CONSENT_IMPORT, len(rows), grant.actor, {"form": token})
        steward_jobs.launch(context.settings, context.lock, db, job, _today(request))
        return RedirectResponse(f"/steward/jobs/{job.job_id}", status_code=303)
    uploads.drop(context.settings, token)
    keys = active_pseudonym_keys(db, context.settings.pseudonym_keys)
    result = import_rows(rows, db, keys, context.settings.vault_keys, grant.actor, name)
    forms.keep(
        db, context.settings.path("consents"), context.settings.vault_keys, name, data, _today(request)
    )
    return page(request, "steward/import_done.html", result=result, filename=name)


@router.get("/steward/jobs/{job_id}")
def job_progress(
    request: Request,
    job_id: str = Path(..., max_length=40, pattern=r"^[A-Za-z0-9_-]+$"),
    grant: Grant = require("steward_read"),
    db: Session = Depends(db_session),
) -> Response:
    """How far long work is (read from the warehouse, so a reload shows the same); refreshes itself."""
    from warehouse.job_models import StewardJob

    job = db.get(StewardJob, job_id)
    if job is None:
        raise HTTPException(404, "見つかりません / not found")
    return page(request, "steward/job.html", job=job)
