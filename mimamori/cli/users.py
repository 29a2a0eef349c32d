"""What `mimamori users ...` does, and the demo accounts: secrets are returned to print once, never stored."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from rich.table import Table
from sqlalchemy.orm import Session

from mimamori.context import warehouse_settings
from mimamori.municipality import load_municipality
from mimamori.settings import Settings
from portal import account_admin
from portal.accounts import SECOND_FACTOR_REQUIRED, find_record
from portal.passwords import generate_password
from warehouse.db import session_scope, utcnow
from warehouse.errors import InputError

DEMO_ROLES = ("outreach", "steward", "auditor", "admin", "integration")


def read_password(stream: TextIO) -> str:
    """The password given on standard input (one line; the line break is not part of it)."""
    password = stream.readline().rstrip("\r\n")
    if not password:
        raise InputError("標準入力にパスワードがありません / no password on standard input")
    return password


def _districts(settings: Settings) -> dict[str, str]:
    return load_municipality(settings.path("municipality.yaml")).districts


def _known_districts(settings: Settings, role: str, districts: Iterable[str]) -> dict[str, str]:
    """municipality.yaml's districts, read only when districts are given or the role needs them."""
    if not list(districts) and role != "outreach":
        return {}
    return _districts(settings)


def add_user(
    login: str,
    role: str,
    districts: list[str],
    password: str | None,
    display_name: str,
    totp: bool | None,
) -> str:
    """Create an account; the lines to print once: generated password, otpauth:// URI or bearer token."""
    settings = warehouse_settings()
    wants_totp = role in SECOND_FACTOR_REQUIRED if totp is None else totp
    generated = generate_password() if password is None and role != "integration" else None
    with session_scope(settings.database_url) as db:
        made = account_admin.create_account(
            db,
            login=login,
            role=role,
            districts=districts,
            display_name=display_name,
            password=password if password is not None else generated,
            totp=wants_totp,
            vault_keys=settings.vault_keys,
            known_districts=_known_districts(settings, role, districts),
            actor=settings.actor,
            now=utcnow(),
        )
    scope = ", ".join(made.account.districts) or "全地区 / all districts"
    lines = [f"アカウントを作成しました / account created: {login} ({role}; {scope})"]
    if generated:
        lines.append(f"パスワード (一度だけ表示) / password (shown once): {generated}")
    if made.totp_uri:
        lines.append(
            "認証アプリに登録してください (一度だけ表示) / add to an authenticator app (shown once):"
        )
        lines.append(made.totp_uri)
    if made.token:
        lines.append(f"API トークン (一度だけ表示) / bearer token (shown once): {made.token}")
    return "\n".join(lines)


def list_users() -> Table:
    """Every account with its role, districts, second factor and state (never a secret)."""
    settings = warehouse_settings()
    table = Table(title="ポータル利用者 / portal accounts")
    for header in ("ログイン名", "役割", "地区", "二要素認証", "無効", "ロック中"):
        table.add_column(header)
    yes = "はい"
    with session_scope(settings.database_url) as db:
        for row in account_admin.list_accounts(db, utcnow()):
            table.add_row(
                row.login,
                row.role,
                " ".join(row.districts) or "-",
                yes if row.second_factor else "いいえ",
                yes if row.disabled else "",
                yes if row.locked else "",
            )
    return table


def disable_user(login: str) -> str:
    """Disable an account: its sessions end and its tokens stop working."""
    settings = warehouse_settings()
    with session_scope(settings.database_url) as db:
        account_admin.disable_account(db, login, settings.actor, utcnow())
    return f"無効にしました / disabled: {login} (全セッション終了 / signed out everywhere)"


def reset_password(login: str, password: str | None) -> str:
    """Set a new password (generated when none is given), lift a lockout and sign out everywhere."""
    settings = warehouse_settings()
    generated = generate_password() if password is None else None
    with session_scope(settings.database_url) as db:
        account_admin.reset_password(db, login, password or generated or "", settings.actor, utcnow())
    done = f"パスワードを再設定しました / password reset: {login} (全セッション終了 / signed out everywhere)"
    return done + (f"\nパスワード (一度だけ表示) / password (shown once): {generated}" if generated else "")


def set_districts(login: str, districts: list[str]) -> str:
    """Replace the districts an account may see."""
    settings = warehouse_settings()
    with session_scope(settings.database_url) as db:
        chosen = account_admin.set_districts(db, login, districts, _districts(settings), settings.actor)
    return f"地区を設定しました / districts set: {login}: {' '.join(chosen) or '-'}"


def reset_totp(login: str) -> str:
    """A new TOTP secret (a lost phone); the otpauth:// URI to print once; signs out everywhere."""
    settings = warehouse_settings()
    with session_scope(settings.database_url) as db:
        _, uri = account_admin.renew_second_factor(db, login, settings.vault_keys, settings.actor, utcnow())
    return (
        f"二要素認証を再設定しました / TOTP reset: {login} (全セッション終了 / signed out everywhere)\n"
        "認証アプリに登録 (一度だけ表示) / add to an authenticator app (shown once):\n" + uri
    )


def new_token(login: str) -> str:
    """Revoke an integration's tokens and issue a new one, to print once."""
    settings = warehouse_settings()
    with session_scope(settings.database_url) as db:
        token = account_admin.renew_token(db, login, settings.actor, utcnow())
    return (
        f"古いトークンは無効です / old tokens revoked: {login}\n"
        f"API トークン (一度だけ表示) / bearer token (shown once): {token}"
    )


def _renew_demo_account(settings: Settings, db: Session, login: str, district: str) -> tuple[str | None, ...]:
    """A demo account run again: new password, second factor or token; (password, secret, URI, token)."""
    now, actor = utcnow(), settings.actor
    record = find_record(db, login)
    assert record is not None
    if record.role == "integration":
        return None, None, None, account_admin.renew_token(db, login, actor, now)
    password = generate_password()
    account_admin.reset_password(db, login, password, actor, now)
    account_admin.set_districts(db, login, [district] if record.role == "outreach" else [], [district], actor)
    secret, uri = (
        account_admin.renew_second_factor(db, login, settings.vault_keys, actor, now)
        if record.role in SECOND_FACTOR_REQUIRED
        else (None, None)
    )
    return password, secret, uri, None


def _new_demo_account(settings: Settings, db: Session, role: str, district: str) -> tuple[str | None, ...]:
    """A new demo account for one role; (password, secret, URI, token)."""
    password = None if role == "integration" else generate_password()
    made = account_admin.create_account(
        db,
        login=f"demo-{role}",
        role=role,
        districts=[district] if role == "outreach" else [],
        display_name=f"デモ {role}",
        password=password,
        totp=role in SECOND_FACTOR_REQUIRED,
        vault_keys=settings.vault_keys,
        known_districts=[district],
        actor=settings.actor,
        now=utcnow(),
    )
    return password, made.totp_secret, made.totp_uri, made.token


def demo_accounts(settings: Settings) -> str:
    """One demo account per role (renewed when it exists); the lines to print once to sign in."""
    district = next(iter(_districts(settings)), None)
    if district is None:
        raise InputError("municipality.yaml に地区がありません / municipality.yaml has no districts")
    lines = [
        "ポータルのデモ用アカウント (一度だけ表示、どこにも保存していません) / "
        "demo accounts (shown once, saved nowhere):"
    ]
    with session_scope(settings.database_url) as db:
        for role in DEMO_ROLES:
            login = f"demo-{role}"
            password, secret, uri, token = (
                _new_demo_account(settings, db, role, district)
                if find_record(db, login) is None
                else _renew_demo_account(settings, db, login, district)
            )
            if token:
                lines.append(f"  {login}  ({role}, API のみ / API only)  Authorization: Bearer {token}")
                continue
            scope = f", {district}" if role == "outreach" else ""
            lines.append(f"  {login}  ({role}{scope})  パスワード / password: {password}")
            if secret and uri:
                lines += [
                    f"      TOTP 秘密鍵 / secret: {secret}",
                    f"      確認コード / code: {sys.executable} -c "
                    f"\"import pyotp; print(pyotp.TOTP('{secret}').now())\"",
                    f"      {uri}",
                ]
    lines += [
        "確認コードは認証アプリ (秘密鍵か otpauth:// URI を登録) か上のコマンドで / "
        "one-time code: an authenticator app (secret or URI) or the command above",
        f"起動 / start: {Path(sys.executable).with_name('mimamori')} serve  →  "
        "ブラウザで / open http://127.0.0.1:8080/",
    ]
    return "\n".join(lines)
