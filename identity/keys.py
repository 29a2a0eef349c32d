"""Versioned key rings for pseudonyms and the identity vault."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from warehouse.errors import ConfigurationError

KEY_BYTES = 32


@dataclass(frozen=True)
class KeyRing:
    """Versioned secret keys: the current one writes, older ones still read."""

    current_id: str
    keys: dict[str, bytes] = field(repr=False)  # secrets: never in a repr, log line or error message

    @property
    def current(self) -> bytes:
        """The key new material is written under."""
        return self.keys[self.current_id]

    def get(self, key_id: str) -> bytes:
        """The key with this id, or a clear error when it is unknown."""
        try:
            return self.keys[key_id]
        except KeyError:
            raise ConfigurationError(f"unknown key id {key_id!r}: is an older key missing?") from None


def parse_keyring(spec: str, source: str) -> KeyRing:
    """Parse `id:base64[,id:base64...]`; the first entry is the current key."""
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key_id, sep, encoded = item.partition(":")
        if not sep or not key_id:
            raise ConfigurationError(f"{source}: expected 'id:base64key[,id:base64key]'")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise ConfigurationError(f"{source}: key {key_id!r} is not valid base64") from None
        if len(raw) != KEY_BYTES:
            raise ConfigurationError(f"{source}: key {key_id!r} must be {KEY_BYTES} bytes, got {len(raw)}")
        keys[key_id] = raw
        order.append(key_id)
    if not order:
        raise ConfigurationError(f"{source} is empty")
    return KeyRing(order[0], keys)


def keyring_spec(ring: KeyRing) -> str:
    """The `id:base64[,id:base64...]` text of a ring, current key first (what parse_keyring reads)."""
    order = [ring.current_id, *(k for k in ring.keys if k != ring.current_id)]
    return ",".join(f"{k}:{base64.b64encode(ring.keys[k]).decode()}" for k in order)
