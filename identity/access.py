"""The only way to read identities out of the vault: with a purpose, and an audit record every time."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.keys import KeyRing
from identity.vault import unseal
from warehouse import audit
from warehouse.models import IdentityVault

IDENTITY_FIELDS = ("resident_id", "name_kanji", "name_kana", "birth_date", "sex", "address", "phone")
PURPOSES = frozenset(
    {
        "publish",
        "view",
        "print",
        "export",
        "api",
        "linkage",
        "link_review",
        "key_rotation",
        "receipt",
        "consent_search",
        "disclosure",
    }
)


def read_identities(
    session: Session,
    keys: KeyRing,
    residents: Iterable[str] | None,
    *,
    actor: str,
    purpose: str,
    subject: str,
) -> dict[str, dict[str, Any]]:
    """Decrypt the identities of these pseudonyms (None: every vault record) and audit the read."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown vault purpose {purpose!r}")
    query = select(IdentityVault)
    if residents is not None:
        query = query.where(IdentityVault.resident.in_(list(residents)))
    records = list(session.execute(query).scalars())
    found = {r.resident: unseal(keys, r.key_id, r.resident, r.ciphertext) for r in records}
    audit.append(session, actor, "vault_read", subject, purpose=purpose, records=len(found))
    return found


def reidentify(
    session: Session,
    keys: KeyRing,
    listed: Iterable[tuple[str, str, str]],
    actor: str,
    purpose: str,
) -> dict[str, dict[str, Any]]:
    """Identities for (entry id, pseudonym, district) triples.

    Entries whose resident has no identity any more (withdrawn, expired: purged) or now lives in
    another district are left out: nobody is shown to a team that no longer looks after them.
    """
    wanted = list(listed)
    residents = sorted({resident for _, resident, _ in wanted})
    records: dict[str, IdentityVault] = {}
    for start in range(0, len(residents), 500):  # one read per 500, not one per entry
        chunk = residents[start : start + 500]
        records.update(
            (r.resident, r)
            for r in session.execute(select(IdentityVault).where(IdentityVault.resident.in_(chunk))).scalars()
        )
    result: dict[str, dict[str, Any]] = {}
    for entry_id, resident, district in wanted:
        record = records.get(resident)
        if record is None or record.district_code != district:
            continue
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
