"""Portal accounts: roles, districts, sign-in with password and TOTP, integration bearer tokens, lockout."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import NoReturn

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from identity.keys import KeyRing
from portal import passwords, second_factor
from warehouse import audit
from warehouse.account_models import AccountDistrict, AccountRecord, ApiToken
from warehouse.errors import MimamoriError

ROLES = ("outreach", "steward", "auditor", "admin", "integration")
SECOND_FACTOR_REQUIRED = frozenset({"steward", "auditor", "admin"})
MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
PORTAL_ACTOR = "portal"


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

    def __init__(self) -> None:
        super().__init__(
            "ログイン名、パスワードまたは確認コードが正しくありません / "
            "login, password or one-time code is not correct"
        )


class AccountLocked(MimamoriError):
    """Too many failed sign-ins: the account is locked until `until` (naive UTC)."""

    def __init__(self, until: dt.datetime) -> None:
        super().__init__(
            "失敗が続いたため一時的にロックされています。しばらくしてからお試しください / "
            "account temporarily locked after repeated failures; try again later"
        )
        self.until = until


def token_digest(token: str) -> str:
    """The SHA-256 hex digest under which a bearer token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def account_of(db: Session, record: AccountRecord) -> Account:
    """The public view of an account record, with its districts in order."""
    districts = db.execute(
        select(AccountDistrict.district_code)
        .where(AccountDistrict.account_id == record.id)
        .order_by(AccountDistrict.district_code)
    ).scalars()
    return Account(record.id, record.login, record.role, tuple(districts), record.display_name)


def find_record(db: Session, login: str) -> AccountRecord | None:
    """The account record with this login, or None."""
    return db.execute(select(AccountRecord).where(AccountRecord.login == login)).scalar_one_or_none()


def is_locked(record: AccountRecord, now: dt.datetime) -> bool:
    """True while a lockout runs."""
    return record.locked_until is not None and now < record.locked_until


def authenticate(
    db: Session, login: str, password: str, otp: str | None, now: dt.datetime, *, vault_keys: KeyRing
) -> Account:
    """The account for this login, password and (when set up) one-time code, or SignInFailed/AccountLocked.

    A failure is counted and committed before the error is raised (so the caller's rollback keeps it);
    the fifth failure in a row locks the account for 15 minutes and is audited. `now` is naive UTC.
    Integration accounts never sign in with a password.
    """
    record = find_record(db, login)
    if record is None or record.password_hash is None:
        passwords.spend_like_a_verification(password)
        raise SignInFailed()
    if is_locked(record, now):
        assert record.locked_until is not None
        raise AccountLocked(record.locked_until)
    if record.locked_until is not None:  # a lockout ran out: start counting again
        record.failed_signins, record.locked_until = 0, None
        db.flush()
    matches, rehashed = passwords.verify_password(record.password_hash, password)
    if not matches or not _second_factor_passes(db, record, otp, now, vault_keys):
        _count_failure(db, record, now)
    if record.disabled:
        raise SignInFailed()
    record.failed_signins = 0
    if rehashed:
        record.password_hash = rehashed
    audit.append(db, record.login, "portal_sign_in", f"account:{record.login}")
    return account_of(db, record)


def _second_factor_passes(
    db: Session, record: AccountRecord, otp: str | None, now: dt.datetime, vault_keys: KeyRing
) -> bool:
    """True without a second factor, or for a good code whose time step this sign-in claims first.

    The step is claimed with a conditional UPDATE, so two sign-ins racing with one code cannot both pass.
    """
    if record.totp_secret is None:
        return True
    if not otp:
        return False
    secret = second_factor.unseal_secret(vault_keys, record.login, record.totp_secret)
    step = second_factor.accepted_step(secret, otp, now, record.totp_last_step)
    if step is None:
        return False
    claimed = db.execute(
        update(AccountRecord)
        .where(
            AccountRecord.id == record.id,
            or_(AccountRecord.totp_last_step.is_(None), AccountRecord.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return False
    set_committed_value(record, "totp_last_step", step)
    return True


def _count_failure(db: Session, record: AccountRecord, now: dt.datetime) -> NoReturn:
    """Count one failure in the database (locking at the fifth), commit it, and raise."""
    if record.disabled:
        raise SignInFailed()
    db.execute(
        update(AccountRecord)
        .where(AccountRecord.id == record.id)
        .values(failed_signins=AccountRecord.failed_signins + 1)
        .execution_options(synchronize_session=False)
    )
    failures = db.execute(
        select(AccountRecord.failed_signins).where(AccountRecord.id == record.id)
    ).scalar_one()
    set_committed_value(record, "failed_signins", failures)
    locked = failures >= MAX_FAILURES and not is_locked(record, now)
    if locked:
        record.locked_until = now + LOCKOUT
        audit.append(
            db,
            PORTAL_ACTOR,
            "account_locked",
            f"account:{record.login}",
            failures=failures,
            until=record.locked_until.isoformat(timespec="seconds"),
        )
    until = record.locked_until
    db.commit()
    if until is not None and now < until:
        raise AccountLocked(until)
    raise SignInFailed()


def account_for_token(db: Session, token: str, now: dt.datetime) -> Account | None:
    """The integration account holding this bearer token, or None (unknown, revoked by `now`, or disabled)."""
    if not token:
        return None
    record = db.execute(
        select(AccountRecord)
        .join(ApiToken, ApiToken.account_id == AccountRecord.id)
        .where(
            ApiToken.token_sha256 == token_digest(token),
            or_(ApiToken.revoked_at.is_(None), ApiToken.revoked_at > now),
            AccountRecord.role == "integration",
            AccountRecord.disabled.is_(False),
        )
    ).scalar_one_or_none()
    return None if record is None else account_of(db, record)


def get_account(db: Session, account_id: int) -> Account | None:
    """The account with this id, or None when it does not exist or is disabled."""
    record = db.get(AccountRecord, account_id)
    if record is None or record.disabled:
        return None
    return account_of(db, record)
