"""A data steward's changes to a consent: withdraw, renew, revoke; each a new version, audited."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from consent.book import versions
from warehouse import audit
from warehouse.db import utcnow
from warehouse.errors import InputError, NotFoundError
from warehouse.models import ConsentRecord, ConsentTombstone

WITHDRAWN, RENEWED, REVOKED = "withdrawn", "renewed", "revoked"


def current(session: Session, consent_id: str) -> ConsentRecord:
    """The newest version of a consent, or a clear error (including for a purged one)."""
    history = versions(session, consent_id)
    record = history[-1] if history else None
    if record is None:
        if session.get(ConsentTombstone, consent_id) is not None:
            raise InputError(f"consent {consent_id} has ended and was purged; only its tombstone remains")
        raise NotFoundError(f"no consent {consent_id}")
    return record


def _new_version(
    session: Session, record: ConsentRecord, actor: str, status: str, why: str = "", **changes: object
) -> ConsentRecord:
    fields = {c.key: getattr(record, c.key) for c in ConsentRecord.__table__.columns if c.key != "id"}
    fields.update(
        changes,
        version=record.version + 1,
        status=status,
        recorded_at=utcnow(),
        recorded_by=actor,
        source=f"steward:{status}",
        row_digest="",
    )
    version = ConsentRecord(**fields)
    session.add(version)
    audit.append(
        session,
        actor,
        "consent_change",
        record.consent_id,
        version=version.version,
        status=status,
        source=version.source,
        **({"why": why} if why else {}),
    )
    session.flush()
    return version


def withdraw(
    session: Session, consent_id: str, on: dt.date, actor: str, by_municipality: bool = False, why: str = ""
) -> ConsentRecord:
    """Record a withdrawal by the resident (or a revocation by the municipality) from a date."""
    record = current(session, consent_id)
    if record.withdrawn_on is not None:
        raise InputError(f"consent {consent_id} was already {record.status} on {record.withdrawn_on}")
    if on < record.granted_on:
        raise InputError(f"withdrawal date {on} is before the grant ({record.granted_on})")
    status = REVOKED if by_municipality else WITHDRAWN
    return _new_version(session, record, actor, status, why, withdrawn_on=on)


def renew(session: Session, consent_id: str, expires_on: dt.date, actor: str) -> ConsentRecord:
    """Extend a consent that is still in force (not withdrawn) to a later expiry date."""
    record = current(session, consent_id)
    if record.withdrawn_on is not None:
        raise InputError(f"consent {consent_id} was {record.status}: a renewal needs a new consent")
    if record.expires_on is not None and expires_on <= record.expires_on:
        raise InputError(f"new expiry {expires_on} is not after the current one ({record.expires_on})")
    return _new_version(session, record, actor, RENEWED, expires_on=expires_on)
