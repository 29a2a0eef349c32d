"""Steward page for a disclosure request (APPI Art. 33): one resident's report in one step, audited."""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from mimamori import stewardship
from portal.app import SECURITY_HEADERS, page
from portal.deps import context_of, db_session
from portal.policy import Grant, require
from warehouse.errors import InputError

router = APIRouter(include_in_schema=False)
STYLE = re.compile(r"<style>(.*?)</style>", re.S)


def standalone(html: str) -> HTMLResponse:
    """A self-contained printable document: the portal's CSP, allowing only its own inline style by hash."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'"
        for block in STYLE.findall(html)
    )
    policy = SECURITY_HEADERS["Content-Security-Policy"].replace(
        "style-src 'self'", f"style-src 'self' {hashes}"
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": policy})


@router.get("/steward/disclosure")
def disclosure_form(request: Request, grant: Grant = require("steward_read")) -> Response:
    """Ask for the resident id (it is posted, never put in a URL)."""
    return page(request, "steward/disclosure.html")


@router.post("/steward/disclosure")
def disclosure(
    request: Request,
    resident_id: str = Form(..., max_length=20),
    grant: Grant = require("steward_identity"),
    db: Session = Depends(db_session),
) -> Response:
    """The printable report of everything held about one resident (reading their identity audited)."""
    try:
        html = stewardship.disclosure(db, context_of(request).settings, resident_id, "html", grant.actor)
    except InputError as problem:
        return page(request, "steward/disclosure.html", 422, error=str(problem))
    return standalone(html)
