"""An entry's lineage for the auditor: the chain of evidence as a picture, and the same facts as text."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from lineage import entry as entry_lineage
from lineage import events as lineage_events
from portal.app import page
from portal.deps import context_of, db_session
from portal.lineage_picture import picture, verdicts
from portal.policy import Grant, require
from portal.routes.pages_entries import ENTRY_ID
from warehouse import audit
from warehouse.errors import NotFoundError
from watchlist.rules import load_rules

router = APIRouter(include_in_schema=False)


@router.get("/audit/entries/{entry_id}/lineage")
def lineage(
    request: Request,
    entry_id: str = ENTRY_ID,
    grant: Grant = require("lineage_read"),
    db: Session = Depends(db_session),
) -> Response:
    """Deliveries (checksums, validation verdicts) → signals → rules → the entry, consents beside them."""
    settings = context_of(request).settings
    try:
        found = entry_lineage.chain(db, entry_id, load_rules(settings.home))
    except NotFoundError:
        raise HTTPException(404, "見つかりません / not found") from None
    audit.append(db, grant.actor, "lineage_view", entry_id, consents=[c.consent_id for c in found.consents])
    checked = verdicts(db, found)
    return page(
        request,
        "auditor/lineage.html",
        chain=found,
        verdicts=checked,
        svg=Markup(picture(found, checked)),  # built from escaped text only (portal.lineage_picture)
        text=entry_lineage.render(found, lineage_events.job_namespace(settings)),
    )
