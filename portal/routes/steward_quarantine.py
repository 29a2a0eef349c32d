"""Steward pages for held-back deliveries: reasons in Japanese with the next step, one delivery's story,
and release or discard with a required reason and a confirmation step (both audited); a release runs as a
steward job with a progress page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from mimamori import steward_jobs, stewardship
from portal.app import page
from portal.deps import context_of, db_session
from portal.policy import Grant, require
from warehouse.errors import MimamoriError, NotFoundError

router = APIRouter(include_in_schema=False)
DELIVERY = Path(..., ge=1, le=2**31)
DECISIONS = {"release": "解放", "discard": "破棄"}


@router.get("/steward/quarantine")
def held(
    request: Request, grant: Grant = require("steward_read"), db: Session = Depends(db_session)
) -> Response:
    """Every delivery not loaded, held ones first, each with what it means and what to do next."""
    rows = stewardship.held_deliveries(db)
    rows.sort(key=lambda item: (item[0].status not in ("quarantined", "refused"), item[0].received_at))
    return page(
        request,
        "steward/quarantine.html",
        rows=rows,
        labels=stewardship.DELIVERY_LABELS,
        names=_names(request),
    )


def _names(request: Request) -> dict[str, str]:
    return context_of(request).partner_names()


def _story_page(
    request: Request, db: Session, delivery_pk: int, status: int = 200, **values: object
) -> Response:
    try:
        story = stewardship.delivery_story(db, delivery_pk)
    except NotFoundError as problem:
        raise HTTPException(404, str(problem)) from None
    return page(
        request,
        "steward/delivery.html",
        status,
        story=story,
        labels=stewardship.DELIVERY_LABELS,
        names=_names(request),
        decisions=DECISIONS,
        **values,
    )


@router.get("/steward/deliveries/{delivery_pk}")
def delivery(
    request: Request,
    delivery_pk: int = DELIVERY,
    done: str = "",
    grant: Grant = require("steward_read"),
    db: Session = Depends(db_session),
) -> Response:
    """One delivery: files, rows loaded and dropped per reason, validation, record of provision."""
    return _story_page(request, db, delivery_pk, done=DECISIONS.get(done, ""))


@router.post("/steward/deliveries/{delivery_pk}/decide")
def decide(
    request: Request,
    delivery_pk: int = DELIVERY,
    decision: str = Form(..., pattern="^(release|discard)$"),
    why: str = Form("", max_length=500),
    confirmed: str = Form("", max_length=3),
    grant: Grant = require("steward_write"),
    db: Session = Depends(db_session),
) -> Response:
    """Release or discard: the first answer asks to confirm, the second records it with the reason."""
    context = context_of(request)
    try:
        story = stewardship.delivery_story(db, delivery_pk)
        if len(" ".join(why.split())) < stewardship.MIN_REASON:
            return _story_page(request, db, delivery_pk, 422, error="理由を4文字以上で入力してください")
        if confirmed != "yes":
            return _story_page(request, db, delivery_pk, confirm=decision, why=why)
        if decision == "release":  # a job (in process, or a DAG run in production) with a progress page
            given = {"delivery": delivery_pk, "why": why}
            job = steward_jobs.start(db, steward_jobs.QUARANTINE_RELEASE, 1, grant.actor, given)
            steward_jobs.launch(context.settings, context.lock, db, job, context.clock().date())
            return RedirectResponse(f"/steward/jobs/{job.job_id}", status_code=303)
        stewardship.discard(db, context.settings, story.delivery, grant.actor, why)
    except NotFoundError as problem:
        raise HTTPException(404, str(problem)) from None
    except MimamoriError as problem:
        return _story_page(request, db, delivery_pk, 422, error=str(problem))
    return RedirectResponse(f"/steward/deliveries/{delivery_pk}?done={decision}", status_code=303)
