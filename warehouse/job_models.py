"""Long work a steward starts from the portal (a large consent import, a quarantine release): its progress,
kept in the warehouse.

The page polls this record, so progress survives a reload; the work runs in process for the embedded
default and as a run of the DAG `mimamori_steward_jobs` in production (`mimamori.steward_jobs`).
No identity is ever written here: counts and consent ids of refused rows only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from warehouse.models import Base


class StewardJob(Base):
    """One piece of long work: what, by whom, how far, and how it ended."""

    __tablename__ = "steward_jobs"
    job_id: Mapped[str] = mapped_column(String(40), primary_key=True)  # opaque, shown in the page's URL
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))  # running | done | failed
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)
    started_by: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
