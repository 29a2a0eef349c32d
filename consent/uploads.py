"""An uploaded consent form between its preview and its import: sealed with the vault key in the data home.

The page carries only the form's SHA-256 (an opaque token); the bytes, which map consent ids to residents
in clear, never sit unencrypted on disk and are deleted once imported. The data home is shared with the
Airflow workers, so a long import run there reads the form from here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol

from identity.keys import KeyRing
from identity.vault import seal_bytes, unseal_bytes
from warehouse.errors import InputError
from warehouse.private_files import private_dir, write_private

PENDING = ("consents", "pending")


class Home(Protocol):
    """What the held forms need of the settings: the data home's paths and the vault key ring."""

    @property
    def vault_keys(self) -> KeyRing: ...

    def path(self, *parts: str) -> Path: ...


def _context(token: str) -> str:
    return f"consent-upload/{token}"


def hold(settings: Home, data: bytes, name: str) -> str:
    """Seal an uploaded form until it is imported; returns its token."""
    token = hashlib.sha256(data).hexdigest()
    folder = private_dir(settings.path(*PENDING))
    body = name.encode("utf-8") + b"\0" + data
    write_private(folder / f"{token}.sealed", seal_bytes(settings.vault_keys, _context(token), body))
    return token


def peek(settings: Home, token: str) -> tuple[bytes, str]:
    """The held form's bytes and file name, left held (a long import reads it where it runs)."""
    path = settings.path(*PENDING, f"{token}.sealed")
    if not path.is_file():
        raise InputError("取り込むファイルが見つかりません。もう一度アップロードしてください / upload again")
    name, _, data = unseal_bytes(settings.vault_keys, _context(token), path.read_bytes()).partition(b"\0")
    return data, name.decode("utf-8")


def drop(settings: Home, token: str) -> None:
    """Delete a held form (once imported)."""
    settings.path(*PENDING, f"{token}.sealed").unlink(missing_ok=True)


def take(settings: Home, token: str) -> tuple[bytes, str]:
    """The held form's bytes and file name, removed from the holding folder."""
    held = peek(settings, token)
    drop(settings, token)
    return held
