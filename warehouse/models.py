"""SQLAlchemy 2 models of the pseudonymous warehouse; see docs/schema.md.

Residents appear only as keyed pseudonyms (`resident` columns); identities live in
`identity_vault` as ciphertext. Event times of signals are naive JST wall time;
administrative timestamps (`*_at`) are naive UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedColumn, mapped_column

PSEUDONYM = String(48)
# Marks a column that holds a resident's pseudonym: rotation re-keys and purge finds every one of them.
PSEUDONYM_INFO = {"pseudonym": True}


def pseudonym_column(**kwargs: Any) -> MappedColumn[Any]:
    """A column holding a resident's pseudonym, marked so that key rotation finds it."""
    return mapped_column(PSEUDONYM, info=dict(PSEUDONYM_INFO), **kwargs)


def pseudonym_columns(metadata: MetaData) -> list[Column[Any]]:
    """Every column of these tables marked as holding a pseudonym, in table order."""
    return [c for t in metadata.sorted_tables for c in t.columns if c.info.get("pseudonym")]


class Base(DeclarativeBase):
    """Declarative base for every warehouse table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class PipelineRun(Base):
    """One daily run (in process or an Airflow DAG run)."""

    __tablename__ = "pipeline_runs"
    run_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    run_date: Mapped[dt.date] = mapped_column(Date, index=True)
    dag_run_id: Mapped[str | None] = mapped_column(String(250))
    code_version: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Delivery(Base):
    """A partner delivery received, with its status and why."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("partner_id", "delivery_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(80))
    delivery_id: Mapped[str] = mapped_column(String(120))
    sector: Mapped[str | None] = mapped_column(String(20))
    period_start: Mapped[dt.datetime | None] = mapped_column(DateTime)
    period_end: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    files: Mapped[list[Any]] = mapped_column(default=list)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0)
    run_id: Mapped[str | None] = mapped_column(String(40))


class DeliveryCount(Base):
    """Rows of a delivery dropped or rejected, counted per reason (never the rows themselves)."""

    __tablename__ = "delivery_counts"
    delivery_pk: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(20), primary_key=True)
    reason: Mapped[str] = mapped_column(String(80), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class Signal(Base):
    """One pseudonymous partner observation about a consented resident."""

    __tablename__ = "signals"
    __table_args__ = (
        Index("ix_signals_resident_start", "resident", "event_start"),
        Index("ix_signals_kind_start", "kind", "event_start"),  # a morning reads events without readings
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_pk: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), index=True)
    resident: Mapped[str] = pseudonym_column()
    partner_id: Mapped[str] = mapped_column(String(80))
    sector: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))
    event_type: Mapped[str] = mapped_column(String(40))
    event_start: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    event_end: Mapped[dt.datetime | None] = mapped_column(DateTime)
    value: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(10))
    consent_id: Mapped[str] = mapped_column(String(60))


class ReadingDay(Base):
    """One resident's readings of one utility on one day from one delivery: half-hour slots and a total.

    Written from the signals the first morning after a delivery is loaded (see watchlist/readings.py), so
    the rules read two weeks of days, not two weeks of half-hourly rows. `slots` holds 48 little-endian
    float64 values from 00:00, NaN where no half-hourly reading came; NULL for daily meters.
    """

    __tablename__ = "reading_days"
    __table_args__ = (Index("ix_reading_days_utility_day", "utility", "day"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_pk: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), index=True)
    resident: Mapped[str] = pseudonym_column(index=True)
    partner_id: Mapped[str] = mapped_column(String(80))
    sector: Mapped[str] = mapped_column(String(20))
    utility: Mapped[str] = mapped_column(String(40))
    consent_id: Mapped[str] = mapped_column(String(60))
    day: Mapped[dt.date] = mapped_column(Date)
    total: Mapped[float] = mapped_column(Float)
    readings: Mapped[int] = mapped_column(Integer)
    first_minute: Mapped[int] = mapped_column(Integer)  # start of the day's first reading, minutes from 00:00
    last_minute: Mapped[int] = mapped_column(Integer)  # end of the day's last reading (1440 = midnight after)
    slots: Mapped[bytes | None] = mapped_column(LargeBinary)


class SummarisedDelivery(Base):
    """A delivery whose readings are in `reading_days` (also when it had none)."""

    __tablename__ = "summarised_deliveries"
    delivery_pk: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), primary_key=True)
    days: Mapped[int] = mapped_column(Integer)
    summarised_at: Mapped[dt.datetime] = mapped_column(DateTime)


class WatchPopulation(Base):
    """Pseudonymous attributes of a consented resident from the newest register extract."""

    __tablename__ = "watch_population"
    resident: Mapped[str] = pseudonym_column(primary_key=True)
    district_code: Mapped[str] = mapped_column(String(20))
    age_band: Mapped[str] = mapped_column(String(10))
    single_household: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(20))
    as_of: Mapped[dt.date] = mapped_column(Date)
    extract: Mapped[str] = mapped_column(String(80))
    # the household's latest change on the register and its reason (death, move_in...), when the extract says
    household_since: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    household_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)


class ConsentRecord(Base):
    """One version of a consent; every change is a new version, never an overwrite."""

    __tablename__ = "consent_records"
    __table_args__ = (UniqueConstraint("consent_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consent_id: Mapped[str] = mapped_column(String(60), index=True)
    version: Mapped[int] = mapped_column(Integer)
    resident: Mapped[str] = pseudonym_column(index=True)
    scope_partners: Mapped[list[Any]] = mapped_column(default=list)
    scope_sectors: Mapped[list[Any]] = mapped_column(default=list)
    purpose: Mapped[str] = mapped_column(String(40))
    granted_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    withdrawn_on: Mapped[dt.date | None] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))
    evidence_ref: Mapped[str | None] = mapped_column(String(120))
    proxy_relation: Mapped[str | None] = mapped_column(String(40))
    proxy_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    recorded_by: Mapped[str] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(200))
    row_digest: Mapped[str] = mapped_column(String(64))


class ConsentTombstone(Base):
    """What remains of a resident after a withdrawal or expiry purge: no identity, only the facts."""

    __tablename__ = "consent_tombstones"
    consent_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    resident: Mapped[str] = pseudonym_column(index=True)
    granted_on: Mapped[dt.date] = mapped_column(Date)
    ended_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(20))
    purged_at: Mapped[dt.datetime] = mapped_column(DateTime)


class ProvisionRecord(Base):
    """APPI Art. 29/30 record of provision: who provided which categories about how many, on what basis."""

    __tablename__ = "provision_records"
    delivery_pk: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(80), index=True)
    received_on: Mapped[dt.date] = mapped_column(Date, index=True)
    categories: Mapped[list[Any]] = mapped_column(default=list)
    residents: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer)
    basis: Mapped[str] = mapped_column(String(120))
    consent_ids: Mapped[int] = mapped_column(Integer)
    keep_until: Mapped[dt.date] = mapped_column(Date)


class ProvisionAmendment(Base):
    """An amendment to a delivery's record of provision: rows a steward accepted later in link review."""

    __tablename__ = "provision_amendments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    amends: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), index=True)
    held_pk: Mapped[int] = mapped_column(Integer, unique=True)  # no key: a purge deletes held rows
    review_id: Mapped[int] = mapped_column(Integer)
    partner_id: Mapped[str] = mapped_column(String(80), index=True)
    received_on: Mapped[dt.date] = mapped_column(Date)
    amended_on: Mapped[dt.date] = mapped_column(Date, index=True)
    categories: Mapped[list[Any]] = mapped_column(default=list)
    residents: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer)
    basis: Mapped[str] = mapped_column(String(120))
    consent_ids: Mapped[int] = mapped_column(Integer)
    keep_until: Mapped[dt.date] = mapped_column(Date)


class IdentityVault(Base):
    """Encrypted identity of a consented resident; the only place identities are kept."""

    __tablename__ = "identity_vault"
    resident: Mapped[str] = pseudonym_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(20))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    payload_digest: Mapped[str] = mapped_column(String(64))
    district_code: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class ValidationResult(Base):
    """The Great Expectations verdict on one delivery's batch: names of failed expectations, never values."""

    __tablename__ = "validation_results"
    delivery_pk: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), primary_key=True)
    suite: Mapped[str] = mapped_column(String(60))
    success: Mapped[bool] = mapped_column(Boolean)
    evaluated: Mapped[int] = mapped_column(Integer)
    failed: Mapped[list[Any]] = mapped_column(default=list)
    validated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class LinkMemory(Base):
    """A remembered linkage decision for one partner customer, keyed by a keyed hash of its id."""

    __tablename__ = "link_memory"
    customer_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(20))
    partner_id: Mapped[str] = mapped_column(String(80), index=True)
    identity_digest: Mapped[str] = mapped_column(String(64))
    resident: Mapped[str | None] = pseudonym_column()
    decision: Mapped[str] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(Float)
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime)
    decided_by: Mapped[str] = mapped_column(String(80))


class LinkReview(Base):
    """A partner identity the scorer could not decide, waiting for a data steward."""

    __tablename__ = "link_reviews"
    __table_args__ = (UniqueConstraint("customer_key", "identity_digest"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(80))
    customer_key: Mapped[str] = mapped_column(String(64))
    identity_digest: Mapped[str] = mapped_column(String(64))
    candidate: Mapped[str] = pseudonym_column()
    score: Mapped[float] = mapped_column(Float)
    partner_identity: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(80))


class HeldRows(Base):
    """Rows of one delivery waiting on a link review, sealed (they still carry identifiers)."""

    __tablename__ = "held_rows"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("link_reviews.id"), index=True)
    delivery_pk: Mapped[int] = mapped_column(ForeignKey("deliveries.id"))
    rows: Mapped[int] = mapped_column(Integer)
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    released_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))


class KeyState(Base):
    """Which key id is in use for a purpose; switched in the same transaction that re-keys the data."""

    __tablename__ = "key_state"
    purpose: Mapped[str] = mapped_column(String(20), primary_key=True)
    active_key_id: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime)


class FeedHealth(Base):
    """Whether a partner's delivery for a day arrived on time, late, quarantined or not at all."""

    __tablename__ = "feed_health"
    partner_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    sector: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    rows: Mapped[int] = mapped_column(Integer, default=0)


class WatchlistEntry(Base):
    """One resident on one day's list, with tier and score."""

    __tablename__ = "watchlist_entries"
    __table_args__ = (UniqueConstraint("run_date", "resident"),)
    entry_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    run_date: Mapped[dt.date] = mapped_column(Date, index=True)
    resident: Mapped[str] = pseudonym_column()
    district_code: Mapped[str] = mapped_column(String(20))
    tier: Mapped[str] = mapped_column(String(10))
    score: Mapped[float] = mapped_column(Float)
    rule_set_version: Mapped[str] = mapped_column(String(20))
    run_id: Mapped[str] = mapped_column(String(40))
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class WatchlistReason(Base):
    """One explained reason behind an entry: rule, facts, sources and time range."""

    __tablename__ = "watchlist_reasons"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("watchlist_entries.entry_id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(60))
    rule_version: Mapped[str] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(Float)
    text_ja: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    partners: Mapped[list[Any]] = mapped_column(default=list)
    sectors: Mapped[list[Any]] = mapped_column(default=list)
    evidence_from: Mapped[dt.datetime | None] = mapped_column(DateTime)
    evidence_to: Mapped[dt.datetime | None] = mapped_column(DateTime)


class Outcome(Base):
    """What the outreach team found when they visited."""

    __tablename__ = "outcomes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("watchlist_entries.entry_id"), index=True)
    resident: Mapped[str] = pseudonym_column()
    outcome: Mapped[str] = mapped_column(String(30))
    visited_on: Mapped[dt.date] = mapped_column(Date)
    follow_up_on: Mapped[dt.date | None] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    recorded_by: Mapped[str] = mapped_column(String(80))
    note_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    corrects: Mapped[int | None] = mapped_column(ForeignKey("outcomes.id"))


def note_context(entry_id: str) -> str:
    """The context an outcome's note is sealed under (bound to its entry)."""
    return f"outcome-note:{entry_id}"


class LineageLink(Base):
    """An edge of evidence: a run or list entry back to a delivery, rule or consent."""

    __tablename__ = "lineage_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(String(40), index=True)
    entry_id: Mapped[str | None] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    ref: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AuditRecord(Base):
    """Append-only, hash-chained audit record (re-identifications, consent changes, purges)."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ArchiveMember(Base):
    """Which archived or quarantined delivery holds rows of which resident (and where), for a purge."""

    __tablename__ = "archive_members"
    __table_args__ = (UniqueConstraint("partner_id", "delivery_id", "resident"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(80))
    delivery_id: Mapped[str] = mapped_column(String(120))
    resident: Mapped[str] = pseudonym_column(index=True)
    rows: Mapped[list[Any]] = mapped_column(default=list)  # row numbers in the delivery, 1 = first data row


class ConsentForm(Base):
    """A consent form file once imported: its checksum (the same file is recognised) and its sealed copy."""

    __tablename__ = "consent_forms"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    imported_on: Mapped[dt.date] = mapped_column(Date)
    sealed_name: Mapped[str | None] = mapped_column(String(200))  # None once deleted by retention


from warehouse import account_models, job_models  # noqa: E402, F401  (they share this metadata)
