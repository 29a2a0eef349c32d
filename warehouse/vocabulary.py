"""The words every package shares: Japan time, and the statuses of deliveries, runs, feeds and reviews.

Statuses are StrEnums, stored in the warehouse as their plain text values (a member equals its text).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

# Japan time: a fixed +09:00 (Japan keeps no daylight saving time); timestamps without an offset are JST.
JST = dt.timezone(dt.timedelta(hours=9), "JST")


class DeliveryStatus(StrEnum):
    """Where a partner delivery stands (`deliveries.status`)."""

    WAITING = "waiting"  # manifest or files incomplete: read once they match
    REFUSED = "refused"  # breaks the annex (unknown partner, outside the agreement, stray files)
    READY = "ready"  # complete and checked, about to be read
    LOADED = "loaded"
    QUARANTINED = "quarantined"
    RELEASED = "released"  # released from quarantine by a steward: read again at the next run
    DISCARDED = "discarded"  # dropped from quarantine by a steward
    SUPERSEDED = "superseded"  # replaced by a later delivery whose manifest names it in `supersedes`


class RunStatus(StrEnum):
    """How a pipeline run ended (`pipeline_runs.status`)."""

    RUNNING = "running"  # also a run killed before it could say otherwise
    SUCCESS = "success"
    FAILED = "failed"
    INGESTED = "ingested"  # an ingestion pass, never mistaken for a day's successful run


class FeedStatus(StrEnum):
    """A partner's feed for a run date (`feed_health.status`)."""

    ON_TIME = "on_time"
    LATE = "late"
    MISSING = "missing"
    QUARANTINED = "quarantined"
    LATE_INCOMPLETE = "late_incomplete"  # arrived but incomplete past the due time


class ReviewStatus(StrEnum):
    """A link review (`link_reviews.status`); `rejected` is also a remembered no-match."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
