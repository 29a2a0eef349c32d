"""Creating and changing portal accounts (for `mimamori users` and the demo); every change is audited."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from identity.keys import KeyRing
from portal import passwords, second_factor
from portal.accounts import (
    ROLES,
    SECOND_FACTOR_REQUIRED,
    Account,
    account_of,
    find_record,
    is_locked,
    token_digest,
)
from portal.websessions import end_all_sessions
from warehouse import audit
from warehouse.account_models import AccountDistrict, AccountRecord, ApiToken
from warehouse.errors import InputError, NotFoundError

LOGIN = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")


@dataclass(frozen=True)
class NewAccount:
    """An account just created, with what is shown once and never stored in clear."""

    account: Account
    totp_secret: str | None
    totp_uri: str | None
    token: str | None


@dataclass(frozen=True)
class AccountRow:
    """One line of `users list`."""

    login: str
    role: str
    display_name: str
    districts: tuple[str, ...]
    second_factor: bool
    disabled: bool
    locked: bool


def _check_districts(role: str, districts: Iterable[str], known: Collection[str]) -> tuple[str, ...]:
    chosen = tuple(sorted(set(districts)))
    unknown = [d for d in chosen if d not in known]
    if unknown:
        raise InputError(
            f"municipality.yaml にない地区です / unknown district: {', '.join(unknown)} "
            f"(known: {', '.join(sorted(known)) or 'none'})"
        )
    if role == "outreach" and not chosen:
        raise InputError(
            "outreach には地区が1つ以上必要です / an outreach account needs at least one district"
        )
    return chosen


def _record(db: Session, login: str) -> AccountRecord:
    record = find_record(db, login)
    if record is None:
        raise NotFoundError(f"アカウントがありません / no account {login!r}")
    return record


def _replace_districts(db: Session, account_id: int, districts: Iterable[str]) -> None:
    db.execute(delete(AccountDistrict).where(AccountDistrict.account_id == account_id))
    db.add_all(AccountDistrict(account_id=account_id, district_code=code) for code in districts)
    db.flush()


def issue_token(db: Session, record: AccountRecord, now: dt.datetime) -> str:
    """A new bearer token for an integration account (stored as SHA-256 only; returned to show once)."""
    token = secrets.token_urlsafe(32)
    db.add(ApiToken(token_sha256=token_digest(token), account_id=record.id, created_at=now))
    return token


def create_account(
    db: Session,
    *,
    login: str,
    role: str,
    districts: Iterable[str],
    display_name: str,
    password: str | None,
    totp: bool,
    vault_keys: KeyRing,
    known_districts: Collection[str],
    actor: str,
    now: dt.datetime,
) -> NewAccount:
    """Create an account: a password (and TOTP when asked or required) for people, a token for systems."""
    if not LOGIN.fullmatch(login):
        raise InputError(
            "ログイン名は英小文字・数字・. _ - の3〜64文字です / login must be 3-64 of a-z 0-9 . _ -"
        )
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; one of: {', '.join(ROLES)}")
    if role in SECOND_FACTOR_REQUIRED and not totp:
        raise InputError(f"{role} には二要素認証が必須です / a {role} account needs TOTP")
    if role == "integration" and (totp or password is not None):
        raise InputError(
            "integration はトークンのみです / an integration account has a token, no password or TOTP"
        )
    chosen = _check_districts(role, districts, known_districts)
    if find_record(db, login) is not None:
        raise InputError(f"アカウントは既にあります / account {login!r} already exists")
    record = AccountRecord(
        login=login,
        role=role,
        display_name=display_name or login,
        disabled=False,
        failed_signins=0,
        created_at=now,
    )
    if role != "integration":
        if password is None:
            raise InputError("パスワードが必要です / a password is needed")
        passwords.check_password(password, login)
        record.password_hash, record.password_changed_at = passwords.hash_password(password), now
    secret = second_factor.new_secret() if totp else None
    if secret is not None:
        record.totp_secret = second_factor.seal_secret(vault_keys, login, secret)
    db.add(record)
    db.flush()
    _replace_districts(db, record.id, chosen)
    token = issue_token(db, record, now) if role == "integration" else None
    audit.append(
        db, actor, "account_created", f"account:{login}", role=role, districts=list(chosen), totp=totp
    )
    return NewAccount(
        account_of(db, record),
        secret,
        second_factor.provisioning_uri(login, secret) if secret else None,
        token,
    )


def disable_account(db: Session, login: str, actor: str, now: dt.datetime) -> None:
    """Disable an account: its sessions end and its tokens are revoked."""
    record = _record(db, login)
    record.disabled = True
    end_all_sessions(db, record.id, now)
    _revoke_tokens(db, record.id, now)
    audit.append(db, actor, "account_disabled", f"account:{login}")


def reset_password(db: Session, login: str, password: str, actor: str, now: dt.datetime) -> None:
    """Set a new password (policy checked), lift a lockout and end every session of the account."""
    record = _record(db, login)
    if record.role == "integration":
        raise InputError("integration にパスワードはありません / an integration account has no password")
    passwords.check_password(password, login)
    record.password_hash, record.password_changed_at = passwords.hash_password(password), now
    record.failed_signins, record.locked_until = 0, None
    end_all_sessions(db, record.id, now)
    audit.append(db, actor, "account_password_reset", f"account:{login}")


def renew_second_factor(
    db: Session, login: str, vault_keys: KeyRing, actor: str, now: dt.datetime
) -> tuple[str, str]:
    """A new TOTP secret for a person's account (a lost phone, a demo run again); returns (secret, URI)."""
    record = _record(db, login)
    if record.role == "integration":
        raise InputError("integration に二要素認証はありません / an integration account has no TOTP")
    secret = second_factor.new_secret()
    record.totp_secret, record.totp_last_step = second_factor.seal_secret(vault_keys, login, secret), None
    end_all_sessions(db, record.id, now)
    audit.append(db, actor, "account_totp_renewed", f"account:{login}")
    return secret, second_factor.provisioning_uri(login, secret)


def renew_token(db: Session, login: str, actor: str, now: dt.datetime) -> str:
    """Revoke an integration account's tokens and issue a new one (returned to show once)."""
    record = _record(db, login)
    if record.role != "integration":
        raise InputError("トークンは integration のみです / only an integration account has a token")
    _revoke_tokens(db, record.id, now)
    token = issue_token(db, record, now)
    audit.append(db, actor, "account_token_renewed", f"account:{login}")
    return token


def _revoke_tokens(db: Session, account_id: int, now: dt.datetime) -> None:
    db.execute(
        update(ApiToken)
        .where(ApiToken.account_id == account_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def set_districts(
    db: Session, login: str, districts: Iterable[str], known_districts: Collection[str], actor: str
) -> tuple[str, ...]:
    """Replace the districts an account may see; returns them in order."""
    record = _record(db, login)
    before = account_of(db, record).districts
    chosen = _check_districts(record.role, districts, known_districts)
    _replace_districts(db, record.id, chosen)
    audit.append(
        db, actor, "account_districts_set", f"account:{login}", before=list(before), after=list(chosen)
    )
    return chosen


def list_accounts(db: Session, now: dt.datetime) -> list[AccountRow]:
    """Every account in login order, with its state (never a secret)."""
    rows = []
    for record in db.execute(select(AccountRecord).order_by(AccountRecord.login)).scalars():
        account = account_of(db, record)
        rows.append(
            AccountRow(
                record.login,
                record.role,
                record.display_name,
                account.districts,
                record.totp_secret is not None,
                record.disabled,
                is_locked(record, now),
            )
        )
    return rows
