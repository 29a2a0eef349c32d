"""The retention step of a day and of the retention job: every period comes from settings.retention."""

from __future__ import annotations

import datetime as dt

from mimamori.settings import Settings
from warehouse.db import session_scope
from warehouse.retention import expire_provision_records, expire_signals


def apply(settings: Settings, run_date: dt.date) -> dict[str, int]:
    """Delete what is past its retention period on the run date (each deletion audited); returns counts."""
    periods = settings.retention
    with session_scope(settings.database_url) as session:
        signals = expire_signals(session, run_date, settings.actor, periods.signals_days)
        records = expire_provision_records(session, run_date, settings.actor)
    return {"signals": signals, "provision_records": records}
