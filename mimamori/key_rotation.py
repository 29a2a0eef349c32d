"""Key rotation for a data home: the one implementation behind `mimamori keys rotate` and the rotation DAG."""

from __future__ import annotations

from typing import Any

from expectations.quarantine import reseal_all
from identity.rotation import active_pseudonym_keys, rotate_pseudonyms, rotate_vault
from mimamori import retention_run
from mimamori.context import RunContext
from mimamori.settings import add_development_key
from warehouse.db import session_scope
from warehouse.errors import InputError

PURPOSES = ("pseudonym", "vault")


def rotate_key(ctx: RunContext, purpose: str) -> dict[str, Any]:
    """Rotate one key ('pseudonym' or 'vault') in one transaction; returns the keys and counts."""
    if purpose not in PURPOSES:
        raise InputError(f"the key to rotate is 'pseudonym' or 'vault', not {purpose!r}")
    pseudonym = purpose == "pseudonym"
    settings = ctx.settings
    variable = "MIMAMORI_PSEUDONYM_KEYS" if pseudonym else "MIMAMORI_VAULT_KEYS"
    with session_scope(settings.database_url) as session:
        in_use = active_pseudonym_keys(session, settings.pseudonym_keys).current_id
    needs_key = in_use == settings.pseudonym_keys.current_id if pseudonym else True
    if needs_key and settings.production and pseudonym:
        raise InputError(f"put the new key first in {variable} ('new:…,{in_use}:…'), then rotate")
    if needs_key and not settings.production:
        add_development_key(settings.home, purpose)
        settings = ctx.reloaded().settings  # the same environment, now with the new development key
    with session_scope(settings.database_url) as session:
        if pseudonym:
            result = rotate_pseudonyms(session, settings.pseudonym_keys, settings.vault_keys, settings.actor)
        else:
            result = rotate_vault(session, settings.vault_keys, settings.actor)
    files = 0 if pseudonym else reseal_all(settings.path("quarantine"), settings.vault_keys)
    files += 0 if pseudonym else retention_run.reseal(settings)
    return {
        "purpose": result.purpose,
        "from_key": result.from_key,
        "to_key": result.to_key,
        "records": result.records,
        "files": files,
    }
