"""The ingest boundary: read each ready delivery, link and consent-gate rows, pseudonymise, validate, load."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors import READY, REFUSED, Check, Partner, canonicalise, check_delivery, scan_inbox
from connectors.archive import record_members
from connectors.read import iter_table
from consent import provision
from consent.book import ConsentBook
from expectations import quarantine
from expectations.validate import Validation, validate
from identity import review
from identity.keys import KeyRing
from identity.link import Linker
from identity.resolver import Resolver
from mimamori.boundary import Batch, gate, pseudonymous_frame
from mimamori.municipality import Municipality
from mimamori.settings import Settings
from warehouse.db import utcnow
from warehouse.errors import InputError
from warehouse.load import append_signals, load_signals, record_counts
from warehouse.models import Delivery, LineageLink, ValidationResult

log = logging.getLogger(__name__)

LOADED = "loaded"
QUARANTINED = "quarantined"
FINAL = frozenset({LOADED, QUARANTINED, REFUSED, quarantine.DISCARDED})


@dataclass
class IngestSummary:
    """Counts of one ingest pass (no identifiers): deliveries by status, rows by fate."""

    deliveries: Counter[str] = field(default_factory=Counter)
    rows_loaded: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        """Plain counts for XCom, run summaries and the CLI."""
        return {
            "deliveries": dict(self.deliveries),
            "rows_loaded": self.rows_loaded,
            "dropped": dict(self.dropped),
            "rejected": dict(self.rejected),
        }


def _record(session: Session, check: Check, run_id: str, status: str, reason: str | None) -> Delivery:
    delivery = session.execute(
        select(Delivery).where(
            Delivery.partner_id == check.partner_id, Delivery.delivery_id == check.delivery_id
        )
    ).scalar_one_or_none()
    if delivery is None:
        delivery = Delivery(partner_id=check.partner_id, delivery_id=check.delivery_id, received_at=utcnow())
        session.add(delivery)
    manifest = check.manifest
    if manifest is not None:
        delivery.sector = manifest.sector
        delivery.period_start, delivery.period_end = manifest.period_start, manifest.period_end
        delivery.created_at = manifest.created_at
        delivery.files = [{"name": f.name, "sha256": f.sha256, "rows": f.rows} for f in manifest.files]
        delivery.rows_total = sum(f.rows for f in manifest.files)
    delivery.status, delivery.reason, delivery.run_id = status, reason, run_id
    session.flush()
    return delivery


def _store_validation(session: Session, delivery_pk: int, sector: str, validation: Validation) -> None:
    """Keep the suite's verdict per delivery: expectation names only, never a value."""
    session.merge(
        ValidationResult(
            delivery_pk=delivery_pk,
            suite=f"mimamori_{sector}",
            success=validation.success,
            evaluated=validation.evaluated,
            failed=list(validation.failed),
            validated_at=utcnow(),
        )
    )


class Ingest:
    """One ingest pass over the inbox for a run date."""

    def __init__(
        self,
        session: Session,
        settings: Settings,
        keys: KeyRing,
        partners: dict[str, Partner],
        book: ConsentBook,
        linker: Linker,
        place: Municipality,
        run_id: str,
        run_date: dt.date,
    ):
        self.session, self.settings, self.partners = session, settings, partners
        self.book, self.place = book, place
        self.resolver = Resolver(
            session,
            keys,
            settings.vault_keys,
            linker,
            place.prefecture,
            place.city,
            settings.actor,
        )
        self.run_id, self.run_date = run_id, run_date
        self.summary = IngestSummary()
        self.quarantine_root = settings.path("quarantine")

    def run(self, inbox: Path, partner: str | None = None) -> IngestSummary:
        """Release rows whose link review was decided, then process every delivery due (of one partner)."""
        self._release_reviewed(partner)
        final = {
            (d.partner_id, d.delivery_id)
            for d in self.session.execute(select(Delivery).where(Delivery.status.in_(FINAL))).scalars()
        }
        for folder in scan_inbox(inbox):
            if (folder.parent.name, folder.name) in final or partner not in (None, folder.parent.name):
                continue
            check = check_delivery(folder, self.partners)
            if check.manifest is not None and check.manifest.period_end.date() > self.run_date:
                continue
            if check.status != READY:
                _record(self.session, check, self.run_id, check.status, check.reason)
                self.summary.deliveries[check.status] += 1
                log.info(
                    "delivery %s/%s %s: %s", check.partner_id, check.delivery_id, check.status, check.reason
                )
                continue
            self._process(check)
        return self.summary

    def _quarantine(self, check: Check, reason: str) -> Delivery:
        quarantine.keep_files(
            self.quarantine_root, self.settings.vault_keys, check.partner_id, check.delivery_id, check.folder
        )
        delivery = _record(self.session, check, self.run_id, QUARANTINED, reason)
        self.summary.deliveries[QUARANTINED] += 1
        log.warning("delivery %s/%s quarantined: %s", check.partner_id, check.delivery_id, reason)
        return delivery

    def _read(self, check: Check, partner: Partner) -> Batch | None:
        """Read a ready delivery chunk by chunk through the row boundary; None once it is quarantined."""
        assert check.manifest is not None
        if check.unreadable:
            self._quarantine(check, check.unreadable)
            return None
        batch = Batch(partner, self.resolver, self.book)
        try:
            for entry in check.manifest.files:
                for chunk in iter_table(check.folder / entry.name, partner.encoding, checked=True):
                    canonical = canonicalise(
                        chunk, partner, check.manifest, first_row=batch.rows_read + 1, seen=batch.hashes
                    )
                    batch.add(canonical, len(chunk))
                    log.info(
                        "delivery %s/%s: %d rows read", check.partner_id, check.delivery_id, batch.rows_read
                    )
        except InputError as problem:
            self._quarantine(check, str(problem))
            return None
        return batch

    def _process(self, check: Check) -> None:
        partner = self.partners[check.partner_id]
        batch = self._read(check, partner)
        if batch is None:
            return
        signals = batch.frame()
        record_members(self.session, check.partner_id, check.delivery_id, batch.members)
        validation = validate(
            signals, partner.sector, home=self.settings.home, name=f"{check.partner_id}-{check.delivery_id}"
        )
        if not validation.success:
            failed = self._quarantine(check, "expectations failed: " + "; ".join(validation.failed))
            _store_validation(self.session, failed.id, partner.sector, validation)
            return
        delivery = _record(self.session, check, self.run_id, LOADED, None)
        _store_validation(self.session, delivery.id, partner.sector, validation)
        quarantine.keep_rows(
            self.quarantine_root,
            self.settings.vault_keys,
            check.partner_id,
            check.delivery_id,
            batch.rejected_source(),
            batch.rejected,
        )
        for review_id, held in batch.held.items():
            review.hold(self.session, self.settings.vault_keys, review_id, delivery.id, pd.concat(held))
        load_signals(self.session, delivery.id, signals)
        delivery.rows_loaded = len(signals)
        provision.record(self.session, delivery.id, partner.id, partner.sector, self.run_date, signals)
        record_counts(self.session, delivery.id, "rejected", batch.rejected_counts)
        record_counts(self.session, delivery.id, "dropped", batch.dropped)
        record_counts(self.session, delivery.id, "column_dropped", Counter(batch.dropped_columns))
        record_counts(self.session, delivery.id, "linkage", batch.link_outcomes)
        self.session.add(
            LineageLink(
                run_id=self.run_id,
                entry_id=None,
                kind="delivery",
                ref=f"{check.partner_id}/{check.delivery_id}",
                detail={
                    "files": delivery.files,
                    "rows_loaded": len(signals),
                    "validation": validation.evaluated,
                },
            )
        )
        self.summary.deliveries[LOADED] += 1
        self.summary.rows_loaded += len(signals)
        self.summary.dropped.update(batch.dropped)
        self.summary.rejected.update(batch.rejected_counts)

    def _release_reviewed(self, only: str | None = None) -> None:
        """Load (accepted) or drop (rejected) rows that waited on a steward's link decision."""
        for release in review.releasable(self.session, self.settings.vault_keys):
            delivery = self.session.get(Delivery, release.held.delivery_pk)
            assert delivery is not None
            if only not in (None, delivery.partner_id):
                continue
            partner = self.partners.get(delivery.partner_id)
            if release.review.status != review.ACCEPTED or partner is None:
                review.mark_released(release.held, "dropped")
                self.summary.dropped["review_rejected"] += release.held.rows
                continue
            rows = release.rows
            residents = pd.Series(release.review.candidate, index=rows.index, dtype=object)
            consent_ids, reasons = gate(rows, residents, self.book, partner)
            kept = reasons.isna()
            signals = pseudonymous_frame(rows.loc[kept], residents.loc[kept], consent_ids.loc[kept], partner)
            if not validate(signals, partner.sector).success:
                log.warning("released rows of review %s failed validation; kept held", release.review.id)
                continue
            append_signals(self.session, delivery.id, signals)
            delivery.rows_loaded += len(signals)
            review.mark_released(release.held, "loaded")
            self.summary.rows_loaded += len(signals)
            self.summary.dropped.update(Counter(reasons.dropna().tolist()))
