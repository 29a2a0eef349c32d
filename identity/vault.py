"""The encrypted identity vault: AES-256-GCM, bound to the resident's pseudonym.

Read identities through `identity.access.read_identities` (purpose and audit), never `unseal` directly.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from identity.keys import KeyRing
from warehouse.errors import ConfigurationError

NONCE_BYTES = 12


def payload_digest(keys: KeyRing, resident: str, payload: dict[str, Any]) -> str:
    """A keyed digest of an identity payload, so a changed identity is noticed without decrypting."""
    data = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    return hmac.new(keys.current, resident.encode() + b"\x00" + data, hashlib.sha256).hexdigest()


def seal(keys: KeyRing, resident: str, payload: dict[str, Any]) -> tuple[str, bytes]:
    """Encrypt an identity payload for one pseudonym; returns (key id, nonce + ciphertext)."""
    nonce = os.urandom(NONCE_BYTES)
    data = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    return keys.current_id, nonce + AESGCM(keys.current).encrypt(nonce, data, resident.encode())


def unseal(keys: KeyRing, key_id: str, resident: str, blob: bytes) -> dict[str, Any]:
    """Decrypt an identity payload; fails clearly when the key is wrong or the row was moved."""
    try:
        data = AESGCM(keys.get(key_id)).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], resident.encode())
    except InvalidTag:
        raise ConfigurationError(f"vault record cannot be decrypted with key {key_id!r}") from None
    result: dict[str, Any] = json.loads(data)
    return result


def seal_bytes(keys: KeyRing, context: str, data: bytes) -> bytes:
    """Encrypt raw bytes (a quarantined batch, a proxy name) bound to a context string."""
    nonce = os.urandom(NONCE_BYTES)
    header = keys.current_id.encode().ljust(12, b"\x00")
    return header + nonce + AESGCM(keys.current).encrypt(nonce, data, context.encode())


def sealed_key_id(blob: bytes) -> str:
    """The key id a blob written by seal_bytes was sealed under."""
    return blob[:12].rstrip(b"\x00").decode()


def reseal_bytes(keys: KeyRing, context: str, blob: bytes) -> bytes:
    """The same bytes sealed under the current key (unchanged when already under it)."""
    if sealed_key_id(blob) == keys.current_id:
        return blob
    return seal_bytes(keys, context, unseal_bytes(keys, context, blob))


def unseal_bytes(keys: KeyRing, context: str, blob: bytes) -> bytes:
    """Decrypt bytes written by seal_bytes."""
    key_id = sealed_key_id(blob)
    nonce, body = blob[12 : 12 + NONCE_BYTES], blob[12 + NONCE_BYTES :]
    try:
        return AESGCM(keys.get(key_id)).decrypt(nonce, body, context.encode())
    except InvalidTag:
        raise ConfigurationError(f"sealed data cannot be decrypted with key {key_id!r}") from None
