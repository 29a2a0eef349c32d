"""The steward's pages, registered together (one line in the app)."""

from __future__ import annotations

from fastapi import APIRouter

from portal.routes import (
    steward_consent,
    steward_disclosure,
    steward_feeds,
    steward_links,
    steward_provision,
    steward_quarantine,
)

STEWARD_ROUTERS: tuple[APIRouter, ...] = tuple(
    module.router
    for module in (
        steward_feeds,
        steward_quarantine,
        steward_links,
        steward_consent,
        steward_provision,
        steward_disclosure,
    )
)
