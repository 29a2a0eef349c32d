"""The consent book: current versions of every consent, and whether one covers a row on its date."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from warehouse.models import ConsentRecord

WILDCARD = "*"
NO_CONSENT = "no_consent"
OUT_OF_SCOPE = "out_of_scope"
EXPIRED = "expired"
WITHDRAWN = "withdrawn"
BEFORE_GRANT = "before_grant"
# When several consents cover a row and none is in force, the reason reported is the strongest one.
REASON_ORDER = (WITHDRAWN, EXPIRED, BEFORE_GRANT)


@dataclass(frozen=True)
class Consent:
    """The current version of one consent, as the gate needs it."""

    consent_id: str
    resident: str
    partners: frozenset[str]
    sectors: frozenset[str]
    granted_on: dt.date
    expires_on: dt.date | None
    withdrawn_on: dt.date | None

    def covers(self, partner_id: str, sector: str) -> bool:
        """True when the scope names this partner and sector (or `*`)."""
        return (WILDCARD in self.partners or partner_id in self.partners) and (
            WILDCARD in self.sectors or sector in self.sectors
        )

    def problem_on(self, day: dt.date) -> str | None:
        """Why this consent was not in force on a day, or None when it was."""
        if day < self.granted_on:
            return BEFORE_GRANT
        if self.withdrawn_on is not None and day >= self.withdrawn_on:
            return WITHDRAWN
        if self.expires_on is not None and day > self.expires_on:
            return EXPIRED
        return None


class ConsentBook:
    """Current consents by resident, answering the gate's question for each row."""

    def __init__(self, consents: Iterable[Consent]):
        self._by_resident: dict[str, list[Consent]] = defaultdict(list)
        for consent in consents:
            self._by_resident[consent.resident].append(consent)

    @classmethod
    def load(cls, session: Session) -> ConsentBook:
        """The latest version of every consent in the warehouse (columns only: no ORM objects to track)."""
        fields = ("consent_id", "resident", "scope_partners", "scope_sectors", "granted_on", "expires_on")
        rows = session.execute(_latest(*(getattr(ConsentRecord, f) for f in (*fields, "withdrawn_on"))))
        return cls(
            Consent(
                r.consent_id,
                r.resident,
                frozenset(r.scope_partners),
                frozenset(r.scope_sectors),
                r.granted_on,
                r.expires_on,
                r.withdrawn_on,
            )
            for r in rows
        )

    def residents(self) -> set[str]:
        """Everyone with any consent record: the only people partner rows may be linked to."""
        return set(self._by_resident)

    def check(
        self, resident: str, partner_id: str, sector: str, day: dt.date
    ) -> tuple[str | None, str | None]:
        """(consent id, None) when a consent covers the row on its date, else (None, reason)."""
        consents = self._by_resident.get(resident)
        if not consents:
            return None, NO_CONSENT
        covering = [c for c in consents if c.covers(partner_id, sector)]
        if not covering:
            return None, OUT_OF_SCOPE
        problems = []
        for consent in sorted(covering, key=lambda c: c.consent_id):
            problem = consent.problem_on(day)
            if problem is None:
                return consent.consent_id, None
            problems.append(problem)
        return None, min(problems, key=REASON_ORDER.index)

    def ending(self, resident: str, day: dt.date) -> tuple[str, dt.date] | None:
        """(withdrawn|expired, first day without consent) when every consent of the resident has ended."""
        ends = []
        for consent in self._by_resident.get(resident, []):
            if consent.withdrawn_on is not None and consent.withdrawn_on <= day:
                ends.append((WITHDRAWN, consent.withdrawn_on))
            elif consent.expires_on is not None and consent.expires_on < day:
                ends.append((EXPIRED, consent.expires_on + dt.timedelta(days=1)))
            else:
                return None  # in force, or granted for later: nothing to purge
        return max(ends, key=lambda end: end[1]) if ends else None

    def in_force(self, resident: str, day: dt.date) -> str | None:
        """A consent of this resident in force on the day (any scope), or None."""
        for consent in sorted(self._by_resident.get(resident, []), key=lambda c: c.consent_id):
            if consent.problem_on(day) is None:
                return consent.consent_id
        return None


def _latest(*columns: Any) -> Select[Any]:
    """The given columns of the newest version of every consent, by consent id."""
    latest = (
        select(ConsentRecord.consent_id, func.max(ConsentRecord.version).label("version"))
        .group_by(ConsentRecord.consent_id)
        .subquery()
    )
    query = select(*columns).join(
        latest,
        (ConsentRecord.consent_id == latest.c.consent_id) & (ConsentRecord.version == latest.c.version),
    )
    return query.order_by(ConsentRecord.consent_id)


def latest_records(session: Session) -> list[ConsentRecord]:
    """The newest version of every consent, by consent id."""
    return list(session.execute(_latest(ConsentRecord)).scalars())


def versions(session: Session, consent_id: str) -> list[ConsentRecord]:
    """Every version of one consent, oldest first (empty when unknown or purged)."""
    query = (
        select(ConsentRecord).where(ConsentRecord.consent_id == consent_id).order_by(ConsentRecord.version)
    )
    return list(session.execute(query).scalars())
