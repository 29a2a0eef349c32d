"""Steward page for the link review queue: one pair at a time, side by side, differences marked; audited."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from mimamori import stewardship
from portal.app import page
from portal.deps import context_of, db_session
from portal.policy import Grant, require
from warehouse.errors import InputError, NotFoundError

router = APIRouter(include_in_schema=False)


@router.get("/steward/links")
def review(
    request: Request,
    at: int = Query(1, ge=1, le=10**6),
    done: str = Query("", pattern="^(|accepted|rejected)$"),
    grant: Grant = require("steward_identity"),
    db: Session = Depends(db_session),
) -> Response:
    """The pending review at a position: the partner's side and the register's (vault read audited)."""
    context = context_of(request)
    shown = stewardship.review_page(db, context.settings, at, grant.actor)
    return page(
        request,
        "steward/links.html",
        shown=shown,
        fields=stewardship.REVIEW_FIELDS,
        names=context.partner_names(),
        done={"accepted": "承認", "rejected": "却下"}.get(done, ""),
    )


@router.post("/steward/links/{review_id}/decide")
def decide(
    request: Request,
    review_id: int = Path(..., ge=1, le=2**31),
    decision: str = Form(..., pattern="^(accept|reject)$"),
    at: int = Form(1, ge=1, le=10**6),
    grant: Grant = require("steward_write"),
    db: Session = Depends(db_session),
) -> Response:
    """Accept or reject a pair (audited); the next pending pair takes its place in the queue."""
    try:
        decided = stewardship.decide_review(
            db, context_of(request).settings, review_id, decision == "accept", grant.actor
        )
    except NotFoundError as problem:
        raise HTTPException(404, str(problem)) from None
    except InputError as problem:
        raise HTTPException(409, str(problem)) from None
    return RedirectResponse(f"/steward/links?at={at}&done={decided.status}", status_code=303)
