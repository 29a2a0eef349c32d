"""What an entry point builds once and hands down: the settings with their warehouse opened."""

from __future__ import annotations

from mimamori import daily
from mimamori.settings import Settings, load_settings
from warehouse.db import migrate


def open_warehouse(settings: Settings) -> Settings:
    """The warehouse brought up to date; a new warehouse's empty log is signed before anything is written."""
    migrate(settings.database_url)
    daily.start_audit(settings)
    return settings


def warehouse_settings() -> Settings:
    """Settings, with the warehouse schema brought up to date (and a new warehouse's empty log signed)."""
    return open_warehouse(load_settings())
