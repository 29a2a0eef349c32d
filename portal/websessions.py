"""Server-side web sessions: a random id kept only as a hash, a CSRF token, idle and absolute expiry."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from portal.accounts import Account

IDLE = dt.timedelta(minutes=30)
ABSOLUTE = dt.timedelta(hours=12)


@dataclass(frozen=True)
class WebSession:
    """A live session: whose it is, the CSRF token its forms must carry, and when it started (naive UTC)."""

    account: Account
    csrf_token: str
    started_at: dt.datetime


def start_session(db: Session, account: Account, now: dt.datetime) -> tuple[str, WebSession]:
    """Open a session with a new random id; returns (session id for the cookie, the session)."""
    raise NotImplementedError


def resume_session(db: Session, session_id: str, now: dt.datetime) -> WebSession | None:
    """The live session with this id (its last-seen time touched), or None when unknown, ended or expired."""
    raise NotImplementedError


def end_session(db: Session, session_id: str, now: dt.datetime) -> None:
    """End one session (sign-out); unknown ids are ignored."""
    raise NotImplementedError


def end_all_sessions(db: Session, account_id: int, now: dt.datetime) -> None:
    """End every open session of one account (password reset, disable)."""
    raise NotImplementedError
