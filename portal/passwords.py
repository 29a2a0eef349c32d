"""Passwords: Argon2id hashes (re-hashed when the parameters change), the policy, and generated passwords."""

from __future__ import annotations

import secrets
import string
from functools import cache
from importlib.resources import files

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from warehouse.errors import InputError

MIN_LENGTH = 12
# argon2-cffi's default is Argon2id with the RFC 9106 low-memory profile (t=3, m=64 MiB, p=4).
HASHER = PasswordHasher()
_STRIP = string.digits + string.punctuation + " "
# No 0/O, 1/l/I: a generated password is read off a screen and typed once.
_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class WeakPassword(InputError):
    """The password does not meet the policy; the message says which rule (never the password)."""


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower case."""
    text = files("portal").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def _repeats_a_short_unit(password: str) -> bool:
    return any(
        len(password) % size == 0 and password == password[:size] * (len(password) // size)
        for size in range(1, 5)
    )


def check_password(password: str, login: str) -> None:
    """Refuse a password shorter than 12, common (also with digits or symbols around it), repetitive or
    containing the login."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(
            f"パスワードは{MIN_LENGTH}文字以上にしてください / "
            f"password must be at least {MIN_LENGTH} characters"
        )
    lowered = password.lower()
    core = lowered.strip(_STRIP)
    common = common_passwords()
    if lowered in common or core in common or not core or _repeats_a_short_unit(lowered):
        raise WeakPassword("よく使われるパスワードは使えません / password is too common or too easy to guess")
    if len(login) >= 3 and login.lower() in lowered:
        raise WeakPassword("パスワードにログイン名を含めないでください / password must not contain the login")


def generate_password() -> str:
    """A random password of four groups of five characters (about 116 bits), e.g. to print once."""
    groups = ("".join(secrets.choice(_ALPHABET) for _ in range(5)) for _ in range(4))
    return "-".join(groups)


def hash_password(password: str, hasher: PasswordHasher = HASHER) -> str:
    """The Argon2id hash of a password, with its salt and parameters encoded in it."""
    return hasher.hash(password)


def verify_password(stored: str, password: str, hasher: PasswordHasher = HASHER) -> tuple[bool, str | None]:
    """Whether the password matches the stored hash, and a new hash when the parameters have changed."""
    try:
        hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    return True, hasher.hash(password) if hasher.check_needs_rehash(stored) else None


@cache
def _dummy_hash() -> str:
    return HASHER.hash(secrets.token_urlsafe(16))


def spend_like_a_verification(password: str) -> None:
    """Hash work equal to a real check, so an unknown login answers in about the same time."""
    verify_password(_dummy_hash(), password)
