"""`mimamori demo` ends with one portal account per role, printed once and saved nowhere."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from mimamori.cli.users import demo_accounts
from mimamori.settings import load_settings
from portal import second_factor
from portal.accounts import SignInFailed, account_for_token, authenticate
from warehouse.account_models import AccountRecord
from warehouse.db import migrate, session_scope, utcnow

pytestmark = pytest.mark.integration
CLI = str(Path(sys.executable).with_name("mimamori"))
MUNICIPALITY = "code: '149999'\nprefecture: 神奈川県\ncity: みどり市\ndistricts: {D07: 北部, D01: 南部}\n"
ACCOUNT = re.compile(r"^  (demo-\w+)  \((\w+)[^)]*\)  パスワード / password: (\S+)$", re.M)
SECRET = re.compile(r"TOTP 秘密鍵 / secret: ([A-Z2-7]+)")
TOKEN = re.compile(r"Authorization: Bearer (\S+)")


def shown(text: str) -> tuple[dict[str, str], list[str], list[str]]:
    return {m[0]: m[2] for m in ACCOUNT.findall(text)}, SECRET.findall(text), TOKEN.findall(text)


def test_demo_accounts_sign_in_with_what_was_printed_and_are_renewed_when_run_again(home: Path):
    (home / "municipality.yaml").write_text(MUNICIPALITY, encoding="utf-8")
    settings = load_settings()
    migrate(settings.database_url)
    first = demo_accounts(settings)
    logins, secrets, tokens = shown(first)
    assert list(logins) == ["demo-outreach", "demo-steward", "demo-auditor", "demo-admin"]
    assert len(secrets) == 3 and len(tokens) == 1
    assert "http://127.0.0.1:8080/" in first and " serve" in first and "pyotp" in first
    now = utcnow()
    with session_scope(settings.database_url) as db:
        outreach = authenticate(
            db, "demo-outreach", logins["demo-outreach"], None, now, vault_keys=settings.vault_keys
        )
        assert outreach.districts == ("D07",)  # the first district of municipality.yaml
        for login, secret in zip(["demo-steward", "demo-auditor", "demo-admin"], secrets, strict=True):
            code = second_factor.current_code(secret, now)
            assert (
                authenticate(db, login, logins[login], code, now, vault_keys=settings.vault_keys).role
                in login
            )
        integration = account_for_token(db, tokens[0], now)
        assert integration is not None and integration.role == "integration"
    again = demo_accounts(settings)
    renewed, _, new_tokens = shown(again)
    later = now + dt.timedelta(minutes=1)
    with session_scope(settings.database_url) as db:
        assert len(db.execute(select(AccountRecord)).all()) == 5
        assert account_for_token(db, tokens[0], later) is None
        assert account_for_token(db, new_tokens[0], later) is not None
        with pytest.raises(SignInFailed):
            authenticate(
                db, "demo-outreach", logins["demo-outreach"], None, later, vault_keys=settings.vault_keys
            )
    with session_scope(settings.database_url) as db:
        authenticate(
            db, "demo-outreach", renewed["demo-outreach"], None, later, vault_keys=settings.vault_keys
        )


def test_make_demo_prints_the_accounts_once_and_writes_them_nowhere(home: Path):
    result = subprocess.run(
        [CLI, "demo", "--residents", "200", "--days", "2", "--seed", "3"],
        env={**os.environ}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    logins, secrets, tokens = shown(result.stdout)
    assert len(logins) == 4 and len(secrets) == 3 and len(tokens) == 1
    printed = [*logins.values(), *secrets, *tokens]
    for value in printed:
        assert result.stdout.count(value) == (3 if value in secrets else 1)  # a secret is in its URI and hint
    written = [p.read_bytes() for p in home.rglob("*") if p.is_file()]
    assert not any(value.encode() in blob for value in printed for blob in written)
    # the accounts' audit records are written over a signed empty log: the home verifies
    verified = subprocess.run([CLI, "audit", "verify"], env={**os.environ}, capture_output=True, text=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr
