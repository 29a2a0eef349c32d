"""Keyed pseudonyms: HMAC-SHA256 of a resident id under a versioned key, the key id carried along."""

from __future__ import annotations

import hashlib
import hmac
import re

from identity.keys import KeyRing

PSEUDONYM_RE = re.compile(r"^[A-Za-z0-9_-]{1,12}:[0-9a-f]{32}$")


def pseudonymise(keys: KeyRing, resident_id: str) -> str:
    """The stable pseudonym of a register resident id under the current key, as `keyid:hex`."""
    digest = hmac.new(keys.current, b"resident\x00" + resident_id.strip().encode(), hashlib.sha256)
    return f"{keys.current_id}:{digest.hexdigest()[:32]}"


def keyed_digest(keys: KeyRing, purpose: str, *parts: str) -> str:
    """A keyed digest of any parts (e.g. a partner's customer id) that reveals nothing without the key."""
    message = "\x00".join((purpose, *parts)).encode()
    return hmac.new(keys.current, message, hashlib.sha256).hexdigest()


def is_pseudonym(value: str) -> bool:
    """True when a value has the shape of a pseudonym and nothing else."""
    return bool(PSEUDONYM_RE.match(value))
