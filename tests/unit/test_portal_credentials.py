"""Passwords (Argon2id, policy, generated), TOTP codes used once, bearer token digests."""

from __future__ import annotations

import datetime as dt
import io

import pyotp
import pytest
from argon2 import PasswordHasher

from identity.keys import parse_keyring
from mimamori.cli.users import read_password
from portal import passwords, second_factor
from portal.accounts import token_digest
from warehouse.errors import ConfigurationError, InputError

pytestmark = pytest.mark.unit

NOW = dt.datetime(2026, 11, 29, 9, 0, 0)
KEYS = parse_keyring("v1:" + "A" * 43 + "=", "test")
OTHER_KEYS = parse_keyring("v9:" + "B" * 43 + "=", "test")
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def test_a_password_hash_is_argon2id_salted_and_verifies_only_the_password():
    stored = passwords.hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert stored != passwords.hash_password("correct horse battery")
    assert passwords.verify_password(stored, "correct horse battery") == (True, None)
    assert passwords.verify_password(stored, "correct horse batterY") == (False, None)
    assert passwords.verify_password("not a hash", "correct horse battery") == (False, None)


def test_a_hash_made_with_other_parameters_is_rehashed_on_a_successful_check():
    old = passwords.hash_password("correct horse battery", CHEAP)
    ok, fresh = passwords.verify_password(old, "correct horse battery")
    assert ok and fresh is not None and fresh.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.verify_password(fresh, "correct horse battery") == (True, None)
    assert passwords.verify_password(old, "wrong horse battery") == (False, None)


@pytest.mark.parametrize(
    "candidate",
    [
        "short-pw1",
        "password1234",
        "PASSWORD1234",
        "qwertyuiop12",
        "1q2w3e4r5t6y",
        "asdfghjkl123",
        "sakura123456",
        "2026sakura!!",
        "aaaaaaaaaaaa",
        "abcabcabcabc",
        "121212121212",
        "123456789012",
        "!!!!????1234",
    ],
)
def test_short_common_or_repetitive_passwords_are_refused(candidate: str):
    with pytest.raises(passwords.WeakPassword) as refused:
        passwords.check_password(candidate, "hanako")
    assert candidate not in str(refused.value)


def test_a_password_containing_the_login_is_refused_and_a_good_one_passes():
    with pytest.raises(passwords.WeakPassword, match="login"):
        passwords.check_password("Tanaka-Hanako-Kita-7", "hanako")
    passwords.check_password("Tanaka-Hanako-Kita-7", "t.suzuki")
    passwords.check_password("kumo no ue de 7 neko", "t.suzuki")


def test_the_shipped_list_holds_a_few_hundred_entries_with_japanese_typical_ones():
    common = passwords.common_passwords()
    assert 300 <= len(common) <= 2000
    assert {"password1234", "qwertyuiop12", "1qaz2wsx3edc", "sakura", "arigatou"} <= common


def test_generated_passwords_pass_the_policy_and_differ():
    made = {passwords.generate_password() for _ in range(20)}
    assert len(made) == 20
    for password in made:
        passwords.check_password(password, "hanako")
        assert len(password) == 23


def test_a_totp_code_is_accepted_once_within_one_step_of_now():
    secret = second_factor.new_secret()
    totp = pyotp.TOTP(secret)
    now_ts = int(NOW.replace(tzinfo=dt.UTC).timestamp())
    step = now_ts // 30
    code = totp.at(now_ts)
    assert second_factor.accepted_step(secret, code, NOW, None) == step
    assert second_factor.accepted_step(secret, code, NOW, step) is None  # reused
    assert second_factor.accepted_step(secret, totp.at(now_ts - 30), NOW, None) == step - 1
    assert second_factor.accepted_step(secret, totp.at(now_ts + 30), NOW, None) == step + 1
    assert second_factor.accepted_step(secret, totp.at(now_ts - 60), NOW, None) is None
    # An older code after a newer one was used is refused too.
    assert second_factor.accepted_step(secret, totp.at(now_ts - 30), NOW, step) is None
    assert second_factor.accepted_step(secret, "12345a", NOW, None) is None
    assert second_factor.current_code(secret, NOW) == code


def test_a_totp_secret_is_sealed_bound_to_its_login_and_the_uri_names_it():
    secret = second_factor.new_secret()
    sealed = second_factor.seal_secret(KEYS, "hanako", secret)
    assert secret.encode() not in sealed
    assert second_factor.unseal_secret(KEYS, "hanako", sealed) == secret
    with pytest.raises(ConfigurationError):
        second_factor.unseal_secret(KEYS, "ichiro", sealed)
    with pytest.raises(ConfigurationError):
        second_factor.unseal_secret(OTHER_KEYS, "hanako", sealed)
    uri = second_factor.provisioning_uri("hanako", secret)
    assert uri.startswith("otpauth://totp/Mimamori:hanako?") and f"secret={secret}" in uri


def test_a_bearer_token_is_stored_as_its_sha256_hex_digest():
    digest = token_digest("abc")
    assert digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert token_digest("abd") != digest


def test_a_password_on_standard_input_is_its_first_line_without_the_line_break():
    assert read_password(io.StringIO("kumo no ue de 7 neko\r\nmore\n")) == "kumo no ue de 7 neko"
    with pytest.raises(InputError, match="standard input"):
        read_password(io.StringIO(""))
