"""Portal accounts: roles, districts, sign-in with password and TOTP, integration bearer tokens, lockout."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from identity.keys import KeyRing
from warehouse.errors import MimamoriError

ROLES = ("outreach", "steward", "auditor", "admin", "integration")
SECOND_FACTOR_REQUIRED = frozenset({"steward", "auditor", "admin"})
MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Account:
    """A signed-in (or token-bearing) user as the portal sees it: never the password or second factor."""

    id: int
    login: str
    role: str
    districts: tuple[str, ...]
    display_name: str


class SignInFailed(MimamoriError):
    """Wrong login, password or one-time code, or a disabled account (one message for all)."""


class AccountLocked(MimamoriError):
    """Too many failed sign-ins: the account is locked until `until` (naive UTC)."""

    def __init__(self, until: dt.datetime) -> None:
        super().__init__("アカウントは一時的にロックされています / account temporarily locked")
        self.until = until


def authenticate(
    db: Session, login: str, password: str, otp: str | None, now: dt.datetime, *, vault_keys: KeyRing
) -> Account:
    """The account for this login, password and (when set up) one-time code, or SignInFailed/AccountLocked.

    A failure is counted and committed before the error is raised (so the caller's rollback keeps it);
    the fifth failure in a row locks the account for 15 minutes and is audited. `now` is naive UTC.
    Integration accounts never sign in with a password.
    """
    raise NotImplementedError


def account_for_token(db: Session, token: str, now: dt.datetime) -> Account | None:
    """The integration account holding this bearer token, or None (unknown, revoked or disabled)."""
    raise NotImplementedError


def get_account(db: Session, account_id: int) -> Account | None:
    """The account with this id, or None when it does not exist or is disabled."""
    raise NotImplementedError
