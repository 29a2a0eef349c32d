"""Portal accounts, their districts, integration tokens and web sessions (secrets kept only as hashes).

Passwords are Argon2id hashes; a TOTP secret is sealed with the vault keys; bearer tokens and session ids
are stored as SHA-256 hex digests (the CSRF token is useless without the session cookie, so kept as is).
Timestamps are naive UTC.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from warehouse.models import Base

DIGEST = String(64)


def totp_context(login: str) -> str:
    """What a sealed TOTP secret is bound to (sealing in portal.second_factor, resealing at key rotation)."""
    return f"portal-totp:{login}"


class AccountRecord(Base):
    """One portal user (or integration) with its role and sign-in state."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    display_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_signins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class AccountDistrict(Base):
    """One outreach district an account may see."""

    __tablename__ = "account_districts"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    district_code: Mapped[str] = mapped_column(String(20), primary_key=True)


class ApiToken(Base):
    """An integration bearer token, kept as its SHA-256 digest."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(DIGEST, unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class WebSessionRecord(Base):
    """A server-side web session, found by the SHA-256 of its id, with the CSRF token its forms carry."""

    __tablename__ = "web_sessions"
    id_sha256: Mapped[str] = mapped_column(DIGEST, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
