"""The ingest boundary: read each ready delivery, link and consent-gate rows, pseudonymise, validate, load."""

from __future__ import annotations

import logging
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors import READY, REFUSED, Check, Partner, canonicalise, check_delivery, scan_inbox
from connectors.archive import record_members
from connectors.inbox_guard import read_delivery
from consent import provision
from consent.book import ConsentBook
from expectations import quarantine
from expectations.validate import Validation, validate
from identity import review
from identity.keys import KeyRing
from identity.link import Linker
from identity.resolver import Resolver
from ingest import replay
from ingest.boundary import Batch, gate, pseudonymous_frame
from ingest.failure import about_the_run, unexpected_reason
from warehouse.db import utcnow
from warehouse.errors import InputError
from warehouse.load import append_signals, load_signals, record_counts
from warehouse.models import Delivery, LineageLink, PipelineRun, ValidationResult
from warehouse.vocabulary import DeliveryStatus

if TYPE_CHECKING:
    from mimamori.context import RunContext

log = logging.getLogger(__name__)
T = TypeVar("T")

LOADED, QUARANTINED = DeliveryStatus.LOADED, DeliveryStatus.QUARANTINED
FINAL = frozenset({LOADED, QUARANTINED, REFUSED, quarantine.DISCARDED, replay.SUPERSEDED})


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
            "deliveries": {str(status): n for status, n in self.deliveries.items()},
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
    """One ingest pass over a home's inbox for a run, in one session, with the pseudonym keys in use."""

    def __init__(
        self,
        ctx: RunContext,
        session: Session,
        keys: KeyRing,
        book: ConsentBook,
        linker: Linker,
        run: PipelineRun,
    ):
        self.session, self.settings, self.partners, self.book = session, ctx.settings, ctx.partners, book
        place = ctx.municipality
        self.resolver = Resolver(
            session, keys, ctx.settings.vault_keys, linker, place.prefecture, place.city, ctx.settings.actor
        )
        self.run_id, self.run_date = run.run_id, run.run_date
        self.summary = IngestSummary()
        self.inbox = ctx.storage.inbox
        self.quarantine_root = ctx.storage.quarantine
        self.released_root = ctx.storage.released

    def _folders(self, inbox: Path) -> list[Path]:
        """The inbox's delivery folders; a steward's released copy takes the place of the partner's."""
        folders = {(f.parent.name, f.name): f for f in scan_inbox(inbox)}
        folders.update({(f.parent.name, f.name): f for f in scan_inbox(self.released_root)})
        return [folders[key] for key in sorted(folders)]

    def run(self, partner: str | None = None) -> IngestSummary:
        """Release rows whose link review was decided, then process every delivery due (of one partner).

        A delivery is a unit of failure: an unexpected error in one is recorded as its quarantine reason and
        the others go on; corrections (`supersedes`) are processed after the deliveries they may correct.
        """
        self._release_reviewed(partner)
        final = {
            (d.partner_id, d.delivery_id)
            for d in self.session.execute(select(Delivery).where(Delivery.status.in_(FINAL))).scalars()
        }
        corrections: list[Check] = []
        for folder in self._folders(self.inbox):
            if (folder.parent.name, folder.name) in final or partner not in (None, folder.parent.name):
                continue
            check = self._guarded(folder, None, partial(check_delivery, folder, self.partners))
            if check is None:
                continue
            if check.manifest is not None and check.manifest.period_end.date() > self.run_date:
                continue
            if check.status != READY:
                _record(self.session, check, self.run_id, check.status, check.reason)
                self.summary.deliveries[check.status] += 1
                log.info(
                    "delivery %s/%s %s: %s", check.partner_id, check.delivery_id, check.status, check.reason
                )
            elif check.manifest is not None and check.manifest.supersedes:
                corrections.append(check)
            else:
                self._guarded(folder, check, partial(self._process, check))
        for check in corrections:
            self._guarded(check.folder, check, partial(self._process, check))
        return self.summary

    def _guarded(self, folder: Path, check: Check | None, work: Callable[[], T]) -> T | None:
        """Run one delivery's work; an unexpected error quarantines that delivery, a run failure is raised."""
        try:
            return work()
        except Exception as problem:
            if about_the_run(problem):
                raise
            log.exception("delivery %s/%s failed", folder.parent.name, folder.name)
            if check is None:
                check = Check(folder, folder.parent.name, folder.name, QUARANTINED)
            found = self.session.execute(
                select(Delivery).where(
                    Delivery.partner_id == check.partner_id, Delivery.delivery_id == check.delivery_id
                )
            ).scalar_one_or_none()
            if found is not None and found.run_id == self.run_id and found.status == LOADED:
                replay.forget_load(self.session, found.id)
                self.summary.deliveries[LOADED] -= 1
            self._quarantine(check, unexpected_reason(problem))
            return None

    def _quarantine(self, check: Check, reason: str) -> Delivery:
        names = [f.name for f in check.manifest.files] if check.manifest is not None else []
        quarantine.keep_files(
            self.quarantine_root,
            self.settings.vault_keys,
            check.partner_id,
            check.delivery_id,
            check.folder,
            names,
        )
        if check.folder.parent.parent == self.released_root and not check.folder.is_symlink():
            shutil.rmtree(check.folder)  # the steward's plain copy: the sealed one is kept
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
            for chunk in read_delivery(check.folder, check.manifest, partner.encoding):
                canonical = canonicalise(
                    chunk, partner, check.manifest, first_row=batch.rows_read + 1, seen=batch.hashes
                )
                batch.add(canonical, len(chunk))
                log.info("delivery %s/%s: %d rows read", check.partner_id, check.delivery_id, batch.rows_read)
        except InputError as problem:
            self._quarantine(check, str(problem))
            return None
        return batch

    def _process(self, check: Check) -> None:
        partner = self.partners[check.partner_id]
        assert check.manifest is not None
        refused = replay.refusal(self.session, check.partner_id, check.manifest)
        if refused is not None:
            _record(self.session, check, self.run_id, REFUSED, refused)
            self.summary.deliveries[REFUSED] += 1
            log.warning("delivery %s/%s refused: %s", check.partner_id, check.delivery_id, refused)
            return
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
        self.summary.deliveries[LOADED] += 1  # taken back if loading fails
        # Loading is one savepoint: a failure half-way leaves nothing of it (nor of what it supersedes).
        with self.session.begin_nested():
            self._load(check, partner, delivery, batch, signals, validation)

    def _load(
        self,
        check: Check,
        partner: Partner,
        delivery: Delivery,
        batch: Batch,
        signals: pd.DataFrame,
        validation: Validation,
    ) -> None:
        """Write a validated delivery: its signals (without repeated events), held rows, counts, lineage."""
        assert check.manifest is not None
        _store_validation(self.session, delivery.id, partner.sector, validation)
        supersedes = replay.supersede(self.session, check.partner_id, check.manifest)
        signals, repeated = replay.drop_known_events(self.session, delivery.id, partner.id, signals)
        if repeated:
            batch.dropped[replay.REPEATED_EVENT] += repeated
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
        record_counts(self.session, delivery.id, "identifier_refused", batch.identifiers_refused)
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
                    **({"supersedes": supersedes} if supersedes else {}),
                },
            )
        )
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
            provision.amend(
                self.session, release.held, release.review.id, partner.sector, self.run_date, signals
            )
            review.mark_released(release.held, "loaded")
            self.summary.rows_loaded += len(signals)
            self.summary.dropped.update(Counter(reasons.dropna().tolist()))
