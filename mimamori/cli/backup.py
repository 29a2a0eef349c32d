"""`mimamori backup` and `mimamori restore`: the data home's warehouse and audit trail, sealed, and back."""

from __future__ import annotations

from pathlib import Path

from identity.keys import parse_keyring
from mimamori.backup import RestoreKeys, after_restore, make_backup, restore_backup
from mimamori.context import warehouse_settings
from mimamori.settings import data_home, database_url, given_keyrings, production
from warehouse.errors import InputError


def backup(target: Path, with_secret_keys: bool) -> str:
    """Write a sealed backup and say what it holds."""
    settings = warehouse_settings()
    manifest = make_backup(settings, target, with_secret_keys)
    secret = "秘密鍵を含む / WITH the secret keys" if with_secret_keys else "鍵は id のみ / key ids only"
    return (
        f"バックアップしました / backed up: {target} ({manifest['database']} warehouse, "
        f"{manifest['audit']['records']} audit records, {len(manifest['members'])} files, {secret}; "
        f"sealed with vault key {settings.vault_keys.current_id})"
    )


def restore(source: Path, key_file: Path | None) -> str:
    """Restore a sealed backup into the (empty) configured data home and warehouse."""
    given = given_keyrings()
    if key_file is not None:
        try:
            vault = parse_keyring(key_file.read_text(encoding="utf-8").strip(), str(key_file))
        except OSError as problem:
            raise InputError(f"{key_file}: {problem.strerror}") from None
    elif "vault" in given:
        vault = given["vault"]
    else:
        raise InputError(
            "封印を解く保管用の鍵が必要です / the vault key that sealed the backup is needed: "
            "--key-file FILE or MIMAMORI_VAULT_KEYS"
        )
    public = given.pop("audit_public", None)
    keys = RestoreKeys(vault, given, frozenset(public.keys) if public else frozenset(), production())
    manifest = restore_backup(source, data_home(), database_url(), keys)
    return after_restore(warehouse_settings(), manifest, source)
