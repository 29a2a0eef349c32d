"""GET /healthz: the process answers; no data, no sign-in."""

from __future__ import annotations

from fastapi import APIRouter

from portal.policy import require

router = APIRouter()


@router.get("/healthz", dependencies=[require("public")], include_in_schema=False)
def healthz() -> dict[str, str]:
    """Liveness only: never any data."""
    return {"status": "ok"}
