"""Signing in and out for pages and API alike: a new session id each time, cookies set safely."""

from __future__ import annotations

import datetime as dt

from fastapi import Response
from sqlalchemy.orm import Session

from portal.accounts import AccountLocked, authenticate
from portal.deps import SESSION_COOKIE, PortalContext
from portal.websessions import ABSOLUTE, WebSession, end_session, start_session


def open_session(
    db: Session, context: PortalContext, login: str, password: str, otp: str | None, old_id: str
) -> tuple[str, WebSession]:
    """Authenticate and start a fresh session (any session id the browser held is ended first).

    Raises SignInFailed or AccountLocked from the accounts module.
    """
    now = context.clock()
    if old_id:
        end_session(db, old_id, now)
    account = authenticate(
        db, login.strip(), password, (otp or "").strip() or None, now, vault_keys=context.settings.vault_keys
    )
    return start_session(db, account, now)


def set_session_cookie(response: Response, context: PortalContext, session_id: str) -> None:
    """The session cookie: HttpOnly, SameSite=Strict, Secure unless serving on 127.0.0.1."""
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(ABSOLUTE.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=context.secure_cookies,
        path="/",
    )


def clear_session_cookie(response: Response, context: PortalContext) -> None:
    """Remove the session cookie from the browser."""
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="strict", secure=context.secure_cookies, path="/"
    )


def retry_after(locked: AccountLocked, now: dt.datetime) -> str:
    """Seconds until a locked account may try again, for the Retry-After header."""
    return str(max(1, int((locked.until - now).total_seconds())))
