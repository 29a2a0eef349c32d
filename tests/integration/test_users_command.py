"""`mimamori users ...` as operators run it: secrets printed once, stored only hashed or sealed, audited."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select

from mimamori.settings import load_settings
from portal import second_factor
from portal.accounts import SignInFailed, account_for_token, authenticate
from warehouse.db import engine_for, session_scope, utcnow
from warehouse.models import AuditRecord

pytestmark = pytest.mark.integration
CLI = str(Path(sys.executable).with_name("mimamori"))
MUNICIPALITY = "code: '149999'\nprefecture: 神奈川県\ncity: みどり市\ndistricts: {D01: 北部, D02: 南部}\n"
PASSWORD = "kumo no ue de 7 neko"


@pytest.fixture
def town(home: Path) -> Path:
    (home / "municipality.yaml").write_text(MUNICIPALITY, encoding="utf-8")
    return home


def users(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, "users", *args], input=stdin, env={**os.environ}, capture_output=True, text=True, timeout=300
    )


def stored_text(home: Path) -> str:
    """Every value of every warehouse table, and every file of the data home, as one text."""
    url = load_settings().database_url
    metadata = MetaData()
    metadata.reflect(engine_for(url))
    parts = []
    with engine_for(url).connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                parts += [v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in row]
    for path in home.rglob("*"):
        if path.is_file():
            parts.append(path.read_bytes().decode("latin-1"))
    return "\n".join(parts)


def test_users_add_prints_the_uri_or_token_once_and_stores_neither(town: Path):
    admin = users(
        "add", "t.suzuki", "--role", "admin", "--password-stdin", "--display-name", "鈴木", stdin=PASSWORD
    )
    assert admin.returncode == 0, admin.stderr
    uris = re.findall(r"otpauth://totp/\S+", admin.stdout)
    assert len(uris) == 1 and admin.stdout.count("otpauth://") == 1
    secret = re.search(r"secret=([A-Z2-7]+)", uris[0]).group(1)  # type: ignore[union-attr]
    assert PASSWORD not in admin.stdout + admin.stderr
    system = users("add", "kintone", "--role", "integration", "--district", "D02")
    assert system.returncode == 0, system.stderr
    tokens = re.findall(r"bearer token \(shown once\): (\S+)", system.stdout)
    assert len(tokens) == 1 and system.stdout.count(tokens[0]) == 1
    outreach = users("add", "hanako", "--role", "outreach", "--district", "D01")
    assert outreach.returncode == 0, outreach.stderr
    generated = re.findall(r"password \(shown once\): (\S+)", outreach.stdout)
    assert len(generated) == 1 and "otpauth://" not in outreach.stdout
    stored = stored_text(town)
    for shown in (PASSWORD, secret, tokens[0], generated[0]):
        assert shown not in stored
    settings = load_settings()
    now = utcnow()
    with session_scope(settings.database_url) as db:
        assert authenticate(
            db, "hanako", generated[0], None, now, vault_keys=settings.vault_keys
        ).districts == ("D01",)
        code = second_factor.current_code(secret, now)
        account = authenticate(db, "t.suzuki", PASSWORD, code, now, vault_keys=settings.vault_keys)
        assert (account.role, account.display_name) == ("admin", "鈴木")
        created = db.execute(select(AuditRecord.subject).where(AuditRecord.action == "account_created")).all()
        assert sorted(s for (s,) in created) == ["account:hanako", "account:kintone", "account:t.suzuki"]


def test_users_list_disable_reset_and_set_districts(town: Path):
    assert users("add", "hanako", "--role", "outreach", "--district", "D01", "--totp").returncode == 0
    assert (
        users(
            "add", "ichiro", "--role", "outreach", "--district", "D02", "--password-stdin", stdin=PASSWORD
        ).returncode
        == 0
    )
    assert users("set-districts", "hanako", "D01", "D02").returncode == 0
    assert users("disable", "ichiro").returncode == 0
    reset = users("reset-password", "hanako", "--password-stdin", stdin="another 7 cloud cat\n")
    assert reset.returncode == 0, reset.stderr
    listed = users("list")
    assert listed.returncode == 0, listed.stderr
    for header in ("ログイン名", "役割", "地区", "二要素認証", "無効", "ロック中"):
        assert header in listed.stdout
    lines = {line.split()[1]: line for line in listed.stdout.splitlines() if "outreach" in line}
    assert "D01 D02" in lines["hanako"] and "はい" in lines["hanako"]
    assert "D02" in lines["ichiro"] and "いいえ" in lines["ichiro"] and "はい" in lines["ichiro"]
    settings = load_settings()
    with session_scope(settings.database_url) as db:
        with pytest.raises(SignInFailed):
            authenticate(db, "ichiro", PASSWORD, None, utcnow(), vault_keys=settings.vault_keys)
        actions = [a for (a,) in db.execute(select(AuditRecord.action).order_by(AuditRecord.seq))]
    assert actions == [
        "account_created",
        "account_created",
        "account_districts_set",
        "account_disabled",
        "account_password_reset",
    ]


@pytest.mark.parametrize(
    ("args", "stdin", "reason"),
    [
        (("add", "hanako", "--role", "outreach"), None, "at least one district"),
        (("add", "hanako", "--role", "outreach", "--district", "D09"), None, "unknown district: D09"),
        (("add", "boss", "--role", "steward", "--no-totp"), None, "needs TOTP"),
        (
            ("add", "hanako", "--role", "outreach", "--district", "D01", "--password-stdin"),
            "password1234",
            "too common",
        ),
        (("add", "hanako", "--role", "outreach", "--district", "D01", "--password-stdin"), "", "no password"),
        (("disable", "nobody"), None, "no account"),
        (("reset-password", "nobody", "--password-stdin"), PASSWORD, "no account"),
        (("set-districts", "nobody", "D01"), None, "no account"),
    ],
)
def test_users_errors_are_one_line_reasons(town: Path, args: tuple[str, ...], stdin: str | None, reason: str):
    result = users(*args, stdin=stdin)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("エラー / error:")]
    assert len(errors) == 1 and reason in errors[0], result.stderr
    assert "Traceback" not in result.stderr


def test_a_lost_phone_or_token_is_replaced_and_the_old_one_stops_working(town: Path):
    admin = users("add", "t.suzuki", "--role", "admin", "--password-stdin", stdin=PASSWORD)
    old_secret = re.search(r"secret=([A-Z2-7]+)", admin.stdout).group(1)  # type: ignore[union-attr]
    system = users("add", "kintone", "--role", "integration")
    old_token = re.findall(r"bearer token \(shown once\): (\S+)", system.stdout)[0]
    totp = users("reset-totp", "t.suzuki")
    token = users("new-token", "kintone")
    assert totp.returncode == 0 and token.returncode == 0, totp.stderr + token.stderr
    assert totp.stdout.count("otpauth://") == 1
    new_secret = re.search(r"secret=([A-Z2-7]+)", totp.stdout).group(1)  # type: ignore[union-attr]
    new_token = re.findall(r"bearer token \(shown once\): (\S+)", token.stdout)[0]
    assert new_secret not in stored_text(town) and new_token not in stored_text(town)
    settings, now = load_settings(), utcnow()
    with session_scope(settings.database_url) as db:
        assert account_for_token(db, old_token, now) is None
        assert account_for_token(db, new_token, now) is not None
        with pytest.raises(SignInFailed):
            old = second_factor.current_code(old_secret, now)
            authenticate(db, "t.suzuki", PASSWORD, old, now, vault_keys=settings.vault_keys)
    with session_scope(settings.database_url) as db:
        code = second_factor.current_code(new_secret, now)
        assert (
            authenticate(db, "t.suzuki", PASSWORD, code, now, vault_keys=settings.vault_keys).role == "admin"
        )
    assert users("new-token", "t.suzuki").returncode != 0
