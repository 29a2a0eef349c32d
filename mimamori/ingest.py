"""The ingest boundary: read each ready delivery, link and consent-gate rows, pseudonymise, validate, load."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors import (
    IDENTIFIER_COLUMNS,
    READY,
    REFUSED,
    Canonical,
    Check,
    Partner,
    canonicalise,
    check_delivery,
    read_table,
    scan_inbox,
)
from consent import provision
from consent.book import NO_CONSENT, ConsentBook
from expectations import quarantine
from expectations.validate import Validation, validate
from identity import review
from identity.keys import KeyRing
from identity.link import Linker
from identity.resolver import ENDED, Resolution, Resolver
from mimamori.municipality import Municipality
from mimamori.settings import Settings
from warehouse.db import utcnow
from warehouse.errors import InputError
from warehouse.load import SIGNAL_COLUMNS, append_signals, load_signals, record_counts
from warehouse.models import Delivery, LineageLink, ValidationResult

log = logging.getLogger(__name__)

LOADED = "loaded"
QUARANTINED = "quarantined"
FINAL = frozenset({LOADED, QUARANTINED, REFUSED, quarantine.DISCARDED})
HELD = "held_for_review"


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


@dataclass(frozen=True)
class Linked:
    """Per row: the resident, the review holding it, or why a known customer is no longer taken in."""

    residents: pd.Series
    reviews: pd.Series
    ended: pd.Series
    outcomes: Counter[str]


def link_rows(rows: pd.DataFrame, resolver: Resolver, partner_id: str) -> Linked:
    """Resolve each distinct identity once (not each row), then spread the answers over the rows."""
    identity = list(IDENTIFIER_COLUMNS)
    decided: dict[tuple[str, ...], Resolution] = {}
    outcomes: Counter[str] = Counter()
    for values in rows.loc[:, identity].drop_duplicates().itertuples(index=False, name=None):
        decided[values] = resolver.resolve(partner_id, values)
        outcomes[decided[values].outcome] += 1
    per_row = [decided[k] for k in rows.loc[:, identity].itertuples(index=False, name=None)]
    return Linked(
        residents=pd.Series([r.resident for r in per_row], index=rows.index, dtype=object),
        reviews=pd.Series([r.review_id for r in per_row], index=rows.index, dtype=object),
        ended=pd.Series(
            [r.outcome if r.outcome in ENDED else None for r in per_row], index=rows.index, dtype=object
        ),
        outcomes=outcomes,
    )


def gate(
    rows: pd.DataFrame, residents: pd.Series, book: ConsentBook, partner: Partner
) -> tuple[pd.Series, pd.Series]:
    """Per row: the consent id that allows it, or why it is dropped (checked once per resident and day)."""
    keys = pd.MultiIndex.from_arrays([residents.fillna(""), rows["event_start"].dt.normalize()])
    unique = keys.unique()
    verdicts = [
        book.check(resident, partner.id, partner.sector, day.date()) if resident else (None, NO_CONSENT)
        for resident, day in unique
    ]
    where = unique.get_indexer(keys)
    consent_ids = pd.Series(
        np.array([v[0] for v in verdicts], dtype=object)[where], index=rows.index, dtype=object
    )
    reasons = pd.Series(
        np.array([v[1] for v in verdicts], dtype=object)[where], index=rows.index, dtype=object
    )
    return consent_ids, reasons


def pseudonymous_frame(
    rows: pd.DataFrame, residents: pd.Series, consent_ids: pd.Series, partner: Partner
) -> pd.DataFrame:
    """The rows as they may cross the boundary: pseudonym and consent id, no identifier column."""
    frame = rows.assign(
        resident=residents, consent_id=consent_ids, partner_id=partner.id, sector=partner.sector
    )
    return frame.loc[:, list(SIGNAL_COLUMNS)].reset_index(drop=True)


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

    def _process(self, check: Check) -> None:
        assert check.manifest is not None
        partner = self.partners[check.partner_id]
        try:
            frames = [read_table(check.folder / f.name, partner.encoding) for f in check.manifest.files]
            canonical = canonicalise(pd.concat(frames, ignore_index=True), partner, check.manifest)
        except InputError as problem:
            self._quarantine(check, str(problem))
            return
        rows = canonical.rows
        linked = link_rows(rows, self.resolver, partner.id)
        residents, reviews, link_outcomes = linked.residents, linked.reviews, linked.outcomes
        consent_ids, reasons = gate(rows, residents, self.book, partner)
        reasons = reasons.mask(reviews.notna(), HELD).mask(linked.ended.notna(), linked.ended)
        kept = reasons.isna()
        signals = pseudonymous_frame(rows.loc[kept], residents.loc[kept], consent_ids.loc[kept], partner)
        validation = validate(
            signals, partner.sector, home=self.settings.home, name=f"{check.partner_id}-{check.delivery_id}"
        )
        if not validation.success:
            failed = self._quarantine(check, "expectations failed: " + "; ".join(validation.failed))
            _store_validation(self.session, failed.id, partner.sector, validation)
            return
        delivery = _record(self.session, check, self.run_id, LOADED, None)
        _store_validation(self.session, delivery.id, partner.sector, validation)
        self._keep_rejected(check, canonical)
        dropped = Counter(reasons.dropna().tolist())
        for review_id, held in rows.loc[reviews.notna()].groupby(reviews.loc[reviews.notna()]):
            review.hold(self.session, self.settings.vault_keys, int(review_id), delivery.id, held)
        load_signals(self.session, delivery.id, signals)
        delivery.rows_loaded = len(signals)
        provision.record(self.session, delivery.id, partner.id, partner.sector, self.run_date, signals)
        record_counts(self.session, delivery.id, "rejected", canonical.rejected.counts)
        record_counts(self.session, delivery.id, "dropped", dropped)
        record_counts(
            self.session, delivery.id, "column_dropped", Counter(dict.fromkeys(canonical.dropped_columns, 1))
        )
        record_counts(self.session, delivery.id, "linkage", link_outcomes)
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
        self.summary.dropped.update(dropped)
        self.summary.rejected.update(canonical.rejected.counts)

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

    def _keep_rejected(self, check: Check, canonical: Canonical) -> None:
        quarantine.keep_rows(
            self.quarantine_root,
            self.settings.vault_keys,
            check.partner_id,
            check.delivery_id,
            canonical.source,
            canonical.rejected.rows,
        )
