"""Re-identification of listed residents only, for their district only, each one audited."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.keys import KeyRing
from identity.vault import unseal
from warehouse import audit
from warehouse.errors import NotFoundError
from warehouse.models import IdentityVault

IDENTITY_FIELDS = ("resident_id", "name_kanji", "name_kana", "birth_date", "sex", "address", "phone")


def reidentify(
    session: Session,
    keys: KeyRing,
    listed: Iterable[tuple[str, str, str]],
    actor: str,
    purpose: str,
) -> dict[str, dict[str, Any]]:
    """Identities for (entry id, pseudonym, district) triples; refuses a resident outside that district."""
    result: dict[str, dict[str, Any]] = {}
    for entry_id, resident, district in listed:
        record = session.get(IdentityVault, resident)
        if record is None:
            raise NotFoundError(f"entry {entry_id}: no identity in the vault (withdrawn or purged)")
        if record.district_code != district:
            raise NotFoundError(f"entry {entry_id}: resident is not in district {district}")
        identity = unseal(keys, record.key_id, resident, record.ciphertext)
        result[entry_id] = {k: identity.get(k, "") for k in IDENTITY_FIELDS}
        audit.append(
            session,
            actor,
            "reidentify",
            entry_id,
            district=district,
            purpose=purpose,
            fields=list(IDENTITY_FIELDS),
        )
    return result


def vault_residents(session: Session) -> list[str]:
    """Every pseudonym that has an identity in the vault."""
    return list(session.execute(select(IdentityVault.resident)).scalars())
