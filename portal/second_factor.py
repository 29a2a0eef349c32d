"""TOTP second factor: secrets sealed with the vault keys, codes checked once per 30-second step."""

from __future__ import annotations

import datetime as dt
import hmac

import pyotp

from identity.keys import KeyRing
from identity.vault import seal_bytes, unseal_bytes
from warehouse.account_models import totp_context

ISSUER = "Mimamori"
STEP_SECONDS = 30
VALID_WINDOW = 1  # the step before and after the current one are accepted (clock drift)


def new_secret() -> str:
    """A new random base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def seal_secret(keys: KeyRing, login: str, secret: str) -> bytes:
    """The secret encrypted under the current vault key, bound to the login."""
    return seal_bytes(keys, totp_context(login), secret.encode())


def unseal_secret(keys: KeyRing, login: str, sealed: bytes) -> str:
    """The plain secret of a sealed one (raises ConfigurationError when the key is missing or wrong)."""
    return unseal_bytes(keys, totp_context(login), sealed).decode()


def provisioning_uri(login: str, secret: str) -> str:
    """The otpauth:// URI an authenticator app reads (shown once, never stored)."""
    return pyotp.TOTP(secret).provisioning_uri(name=login, issuer_name=ISSUER)


def _timestamp(now: dt.datetime) -> float:
    return (now if now.tzinfo else now.replace(tzinfo=dt.UTC)).timestamp()


def current_code(secret: str, now: dt.datetime) -> str:
    """The code an authenticator shows at `now` (naive UTC), for the demo hint and tests."""
    return pyotp.TOTP(secret).at(int(_timestamp(now)))


def accepted_step(secret: str, code: str, now: dt.datetime, last_step: int | None) -> int | None:
    """The time step the code belongs to (within one step of now), or None; a step at or before
    `last_step` is refused, so a code cannot be used twice."""
    code = code.strip().replace(" ", "")
    if not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(_timestamp(now)) // STEP_SECONDS
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None
