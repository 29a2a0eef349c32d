"""Portal accounts on SQLite and PostgreSQL: sign-in, lockout, tokens, sessions and their audit records."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from identity.keys import parse_keyring
from identity.rotation import rotate_vault
from portal import account_admin, second_factor
from portal.accounts import AccountLocked, SignInFailed, account_for_token, authenticate, get_account
from portal.passwords import WeakPassword
from portal.websessions import ABSOLUTE, IDLE, end_all_sessions, end_session, resume_session, start_session
from warehouse import audit
from warehouse.account_models import AccountRecord, ApiToken, WebSessionRecord
from warehouse.db import engine_for, migrate, session_scope
from warehouse.errors import InputError, NotFoundError
from warehouse.models import AuditRecord

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 11, 29, 9, 0, 0)
KEYS = parse_keyring("v1:" + "A" * 43 + "=", "test")
DISTRICTS = {"D01": "北部", "D02": "南部"}
PASSWORD = "kumo no ue de 7 neko"


@pytest.fixture
def url(database_url: str) -> str:
    migrate(database_url)
    return database_url


def add(db: Session, login: str, role: str, *, districts=("D01",), totp: bool = False, password=PASSWORD):
    return account_admin.create_account(
        db,
        login=login,
        role=role,
        districts=districts,
        display_name="",
        password=password,
        totp=totp,
        vault_keys=KEYS,
        known_districts=DISTRICTS,
        actor="operator",
        now=T0,
    )


def actions(db: Session) -> list[tuple[str, str, str]]:
    records = db.execute(select(AuditRecord).order_by(AuditRecord.seq)).scalars()
    return [(r.actor, r.action, r.subject) for r in records]


def code_at(secret: str, when: dt.datetime) -> str:
    return pyotp.TOTP(secret).at(int(when.replace(tzinfo=dt.UTC).timestamp()))


def test_an_account_signs_in_with_password_and_a_one_time_code_used_once(url: str):
    with session_scope(url) as db:
        made = add(db, "t.suzuki", "steward", districts=(), totp=True)
        assert made.totp_secret and made.totp_uri and made.token is None
    secret = made.totp_secret
    with session_scope(url) as db:
        record = db.execute(select(AccountRecord)).scalar_one()
        assert record.password_hash and record.password_hash.startswith("$argon2id$")
        assert PASSWORD not in record.password_hash
        assert record.totp_secret and secret.encode() not in record.totp_secret
        account = authenticate(db, "t.suzuki", PASSWORD, code_at(secret, T0), T0, vault_keys=KEYS)
        assert (account.login, account.role, account.districts) == ("t.suzuki", "steward", ())
        assert get_account(db, account.id) == account
    with session_scope(url) as db, pytest.raises(SignInFailed):  # the same code again
        authenticate(
            db, "t.suzuki", PASSWORD, code_at(secret, T0), T0 + dt.timedelta(seconds=5), vault_keys=KEYS
        )
    with session_scope(url) as db, pytest.raises(SignInFailed):  # no code
        authenticate(db, "t.suzuki", PASSWORD, None, T0 + dt.timedelta(minutes=1), vault_keys=KEYS)
    later = T0 + dt.timedelta(minutes=2)
    with session_scope(url) as db:
        authenticate(db, "t.suzuki", PASSWORD, code_at(secret, later), later, vault_keys=KEYS)
        assert db.execute(select(AccountRecord.failed_signins)).scalar_one() == 0
        assert [a for _, a, _ in actions(db)] == ["account_created", "portal_sign_in", "portal_sign_in"]


def test_unknown_login_wrong_password_and_disabled_account_fail_alike(url: str):
    with session_scope(url) as db:
        add(db, "hanako", "outreach")
        add(db, "ichiro", "outreach")
        account_admin.disable_account(db, "ichiro", "operator", T0)
    messages = set()
    for login, password in (("nobody", PASSWORD), ("hanako", "wrong password!"), ("ichiro", PASSWORD)):
        with session_scope(url) as db, pytest.raises(SignInFailed) as failed:
            authenticate(db, login, password, None, T0, vault_keys=KEYS)
        messages.add(str(failed.value))
    assert len(messages) == 1
    with session_scope(url) as db:
        assert get_account(db, 2) is None
        assert authenticate(db, "hanako", PASSWORD, None, T0, vault_keys=KEYS).districts == ("D01",)


def test_five_failures_lock_for_fifteen_minutes_audited_then_the_account_signs_in_again(url: str):
    with session_scope(url) as db:
        add(db, "hanako", "outreach")
    for attempt in range(4):
        with session_scope(url) as db, pytest.raises(SignInFailed):
            authenticate(
                db, "hanako", "wrong password!", None, T0 + dt.timedelta(seconds=attempt), vault_keys=KEYS
            )
    with session_scope(url) as db, pytest.raises(AccountLocked) as locked:
        authenticate(db, "hanako", "wrong password!", None, T0 + dt.timedelta(seconds=4), vault_keys=KEYS)
    assert locked.value.until == T0 + dt.timedelta(seconds=4, minutes=15)
    # Locked: even the right password is refused until the time has passed.
    with session_scope(url) as db, pytest.raises(AccountLocked):
        authenticate(db, "hanako", PASSWORD, None, T0 + dt.timedelta(minutes=15), vault_keys=KEYS)
    with session_scope(url) as db:
        assert [r.locked for r in account_admin.list_accounts(db, T0 + dt.timedelta(minutes=1))] == [True]
        assert ("portal", "account_locked", "account:hanako") in actions(db)
        assert audit.verify(db).ok
    unlocked = T0 + dt.timedelta(minutes=15, seconds=4)
    with session_scope(url) as db:
        assert authenticate(db, "hanako", PASSWORD, None, unlocked, vault_keys=KEYS).login == "hanako"
        record = db.execute(select(AccountRecord)).scalar_one()
        assert (record.failed_signins, record.locked_until) == (0, None)


def test_a_lockout_runs_out_and_counting_starts_again(url: str):
    with session_scope(url) as db:
        add(db, "hanako", "outreach")
    for _ in range(5):
        with session_scope(url) as db, pytest.raises((SignInFailed, AccountLocked)):
            authenticate(db, "hanako", "wrong password!", None, T0, vault_keys=KEYS)
    after = T0 + dt.timedelta(minutes=16)
    with session_scope(url) as db, pytest.raises(SignInFailed):  # one failure after the lockout: not locked
        authenticate(db, "hanako", "wrong password!", None, after, vault_keys=KEYS)
    with session_scope(url) as db:
        assert db.execute(select(AccountRecord.failed_signins)).scalar_one() == 1
        assert authenticate(db, "hanako", PASSWORD, None, after, vault_keys=KEYS).login == "hanako"


def test_an_integration_account_has_a_hashed_token_and_no_password(url: str):
    with session_scope(url) as db:
        made = add(db, "kintone", "integration", districts=("D02",), password=None)
    assert made.token and made.totp_uri is None
    with session_scope(url) as db:
        stored = db.execute(select(ApiToken)).scalar_one()
        assert stored.token_sha256 != made.token and len(stored.token_sha256) == 64
        account = account_for_token(db, made.token, T0)
        assert account and (account.role, account.districts) == ("integration", ("D02",))
        assert account_for_token(db, made.token + "x", T0) is None
        assert account_for_token(db, "", T0) is None
    with session_scope(url) as db, pytest.raises(SignInFailed):
        authenticate(db, "kintone", made.token, None, T0, vault_keys=KEYS)
    with session_scope(url) as db:
        account_admin.disable_account(db, "kintone", "operator", T0)
    with session_scope(url) as db:
        assert account_for_token(db, made.token, T0) is None


def test_sessions_expire_when_idle_or_too_old_and_end_on_sign_out(url: str):
    with session_scope(url) as db:
        account = add(db, "hanako", "outreach").account
        session_id, started = start_session(db, account, T0)
        other_id, _ = start_session(db, account, T0)
    assert session_id != other_id and started.csrf_token
    with session_scope(url) as db:
        assert db.get(WebSessionRecord, session_id) is None  # stored only as a digest
        now = T0
        while now - T0 < ABSOLUTE - IDLE:  # kept alive by use every 29 minutes ...
            now += IDLE - dt.timedelta(minutes=1)
            resumed = resume_session(db, session_id, now)
            assert resumed == started
        assert resume_session(db, session_id, T0 + ABSOLUTE) is None  # ... until 12 hours have passed
        assert resume_session(db, other_id, T0 + IDLE) is None  # idle for 30 minutes
        assert resume_session(db, "unknown", T0) is None
    with session_scope(url) as db:
        fresh_id, _ = start_session(db, account, T0)
        end_session(db, fresh_id, T0 + dt.timedelta(minutes=1))
        assert resume_session(db, fresh_id, T0 + dt.timedelta(minutes=2)) is None


@pytest.mark.parametrize("change", ["reset_password", "disable"])
def test_reset_password_and_disable_end_every_session_and_are_audited(url: str, change: str):
    with session_scope(url) as db:
        account = add(db, "hanako", "outreach").account
        ids = [start_session(db, account, T0)[0] for _ in range(3)]
    with session_scope(url) as db:
        if change == "reset_password":
            account_admin.reset_password(db, "hanako", "another 7 cloud cat", "operator", T0)
        else:
            account_admin.disable_account(db, "hanako", "operator", T0)
    with session_scope(url) as db:
        assert all(resume_session(db, i, T0 + dt.timedelta(minutes=1)) is None for i in ids)
        action = {"reset_password": "account_password_reset", "disable": "account_disabled"}[change]
        assert ("operator", action, "account:hanako") in actions(db)
        assert audit.verify(db).ok


def test_end_all_sessions_leaves_other_accounts_signed_in(url: str):
    with session_scope(url) as db:
        hanako, ichiro = add(db, "hanako", "outreach").account, add(db, "ichiro", "outreach").account
        mine, theirs = start_session(db, hanako, T0)[0], start_session(db, ichiro, T0)[0]
        end_all_sessions(db, hanako.id, T0)
        assert resume_session(db, mine, T0) is None
        assert resume_session(db, theirs, T0) is not None


def test_account_changes_are_validated_and_audited(url: str):
    with session_scope(url) as db:
        with pytest.raises(InputError, match="district"):
            add(db, "hanako", "outreach", districts=())
        with pytest.raises(InputError, match="D09"):
            add(db, "hanako", "outreach", districts=("D09",))
        with pytest.raises(InputError, match="TOTP"):
            add(db, "t.suzuki", "admin", districts=())
        with pytest.raises(WeakPassword):
            add(db, "hanako", "outreach", password="password1234")
        with pytest.raises(InputError, match="login"):
            add(db, "Hanako Yamada", "outreach")
        add(db, "hanako", "outreach")
        with pytest.raises(InputError, match="exists"):
            add(db, "hanako", "outreach")
        assert account_admin.set_districts(db, "hanako", ["D02", "D01"], DISTRICTS, "operator") == (
            "D01",
            "D02",
        )
        with pytest.raises(NotFoundError):
            account_admin.disable_account(db, "nobody", "operator", T0)
        with pytest.raises(WeakPassword):
            account_admin.reset_password(db, "hanako", "hanako-1234567", "operator", T0)
    with session_scope(url) as db:
        assert [a for _, a, _ in actions(db)] == ["account_created", "account_districts_set"]
        detail = db.execute(select(AuditRecord.detail).order_by(AuditRecord.seq.desc()).limit(1)).scalar_one()
        assert detail == {"before": ["D01"], "after": ["D01", "D02"]}


def test_a_vault_key_rotation_reseals_totp_secrets_so_the_old_key_can_go(url: str):
    with session_scope(url) as db:
        secret = add(db, "t.suzuki", "admin", districts=(), totp=True).totp_secret
    assert secret
    rotated = parse_keyring("v2:" + "C" * 43 + "=,v1:" + "A" * 43 + "=", "test")
    with session_scope(url) as db:
        assert rotate_vault(db, rotated, "operator").records == 1
    only_new = parse_keyring("v2:" + "C" * 43 + "=", "test")
    with session_scope(url) as db:
        code = second_factor.current_code(secret, T0)
        assert authenticate(db, "t.suzuki", PASSWORD, code, T0, vault_keys=only_new).login == "t.suzuki"


def test_a_code_raced_by_two_sign_ins_is_accepted_only_once(url: str):
    with session_scope(url) as db:
        secret = add(db, "t.suzuki", "admin", districts=(), totp=True).totp_secret
    assert secret
    code = second_factor.current_code(secret, T0)
    factory = sessionmaker(engine_for(url), expire_on_commit=False)
    with factory() as slow, factory() as fast:
        stale = slow.get(AccountRecord, 1)
        assert stale is not None  # read before the other sign-in commits
        authenticate(fast, "t.suzuki", PASSWORD, code, T0, vault_keys=KEYS)
        fast.commit()
        assert stale.totp_last_step is None  # this session has not seen the code used
        with pytest.raises(SignInFailed):
            authenticate(slow, "t.suzuki", PASSWORD, code, T0, vault_keys=KEYS)


def test_failures_racing_in_two_sessions_are_all_counted(url: str):
    with session_scope(url) as db:
        add(db, "hanako", "outreach")
    for _ in range(3):
        with session_scope(url) as db, pytest.raises(SignInFailed):
            authenticate(db, "hanako", "wrong password!", None, T0, vault_keys=KEYS)
    factory = sessionmaker(engine_for(url), expire_on_commit=False)
    with factory() as first, factory() as second:
        stale = [first.get(AccountRecord, 1), second.get(AccountRecord, 1)]
        assert [r.failed_signins for r in stale if r] == [3, 3]
        with pytest.raises(SignInFailed):
            authenticate(first, "hanako", "wrong password!", None, T0, vault_keys=KEYS)
        with pytest.raises(AccountLocked):  # the fifth failure, though this session read three
            authenticate(second, "hanako", "wrong password!", None, T0, vault_keys=KEYS)


def test_signing_in_clears_the_accounts_ended_and_expired_sessions(url: str):
    with session_scope(url) as db:
        account = add(db, "hanako", "outreach").account
        ended, _ = start_session(db, account, T0)
        end_session(db, ended, T0)
        start_session(db, account, T0)  # expires idle
        live, _ = start_session(db, account, T0 + IDLE - dt.timedelta(minutes=1))
        start_session(db, account, T0 + IDLE)
        assert len(db.execute(select(WebSessionRecord)).all()) == 2
        assert resume_session(db, live, T0 + IDLE) is not None
