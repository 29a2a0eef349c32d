"""Server-side web sessions: a random id kept only as a hash, a CSRF token, idle and absolute expiry."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, or_, update
from sqlalchemy.orm import Session

from portal.accounts import Account, get_account
from warehouse.account_models import WebSessionRecord

IDLE = dt.timedelta(minutes=30)
ABSOLUTE = dt.timedelta(hours=12)


@dataclass(frozen=True)
class WebSession:
    """A live session: whose it is, the CSRF token its forms must carry, and when it started (naive UTC)."""

    account: Account
    csrf_token: str
    started_at: dt.datetime


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(db: Session, account: Account, now: dt.datetime) -> tuple[str, WebSession]:
    """Open a session with a new random id; returns (session id for the cookie, the session).

    The account's ended and expired sessions are deleted here, so the table holds only live ones.
    """
    db.execute(
        delete(WebSessionRecord).where(
            WebSessionRecord.account_id == account.id,
            or_(
                WebSessionRecord.ended_at.is_not(None),
                WebSessionRecord.last_seen_at <= now - IDLE,
                WebSessionRecord.created_at <= now - ABSOLUTE,
            ),
        )
    )
    session_id, csrf_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    db.add(
        WebSessionRecord(
            id_sha256=_digest(session_id),
            account_id=account.id,
            csrf_token=csrf_token,
            created_at=now,
            last_seen_at=now,
        )
    )
    db.flush()
    return session_id, WebSession(account, csrf_token, now)


def resume_session(db: Session, session_id: str, now: dt.datetime) -> WebSession | None:
    """The live session with this id (its last-seen time touched), or None when unknown, ended or expired."""
    if not session_id:
        return None
    record = db.get(WebSessionRecord, _digest(session_id))
    if record is None or record.ended_at is not None:
        return None
    if now - record.last_seen_at >= IDLE or now - record.created_at >= ABSOLUTE:
        record.ended_at = now
        return None
    account = get_account(db, record.account_id)
    if account is None:  # disabled since
        record.ended_at = now
        return None
    record.last_seen_at = max(record.last_seen_at, now)
    return WebSession(account, record.csrf_token, record.created_at)


def end_session(db: Session, session_id: str, now: dt.datetime) -> None:
    """End one session (sign-out); unknown ids are ignored."""
    record = db.get(WebSessionRecord, _digest(session_id)) if session_id else None
    if record is not None and record.ended_at is None:
        record.ended_at = now


def end_all_sessions(db: Session, account_id: int, now: dt.datetime) -> None:
    """End every open session of one account (password reset, disable)."""
    db.execute(
        update(WebSessionRecord)
        .where(WebSessionRecord.account_id == account_id, WebSessionRecord.ended_at.is_(None))
        .values(ended_at=now)
    )
