"""Key rotation: re-key pseudonyms or re-encrypt the vault in one transaction that a crash cannot half-apply.

The pseudonym key in use is recorded in `key_state` and switched in the same transaction that
rewrites every pseudonym, so a crash leaves the old key in use and the old data consistent; the
rotation can simply be run again. Vault records carry their key id, so they stay readable under the
old key until re-encrypted.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from identity.access import read_identities
from identity.keys import KeyRing
from identity.pseudonym import pseudonymise
from identity.resolver import review_context
from identity.review import held_context
from identity.vault import payload_digest, reseal_bytes, seal
from warehouse import audit
from warehouse.account_models import AccountRecord, totp_context
from warehouse.db import utcnow
from warehouse.errors import ConfigurationError
from warehouse.models import (
    ConsentRecord,
    HeldRows,
    IdentityVault,
    KeyState,
    LinkMemory,
    LinkReview,
    Outcome,
    Signal,
    WatchlistEntry,
    WatchPopulation,
    note_context,
)

PSEUDONYM = "pseudonym"
# Every column that holds a resident's pseudonym, outside the vault.
PSEUDONYM_COLUMNS = (
    (Signal, Signal.resident),
    (WatchPopulation, WatchPopulation.resident),
    (ConsentRecord, ConsentRecord.resident),
    (WatchlistEntry, WatchlistEntry.resident),
    (Outcome, Outcome.resident),
    (LinkMemory, LinkMemory.resident),
    (LinkReview, LinkReview.candidate),
)


@dataclass(frozen=True)
class Rotation:
    """What a rotation did."""

    purpose: str
    from_key: str
    to_key: str
    records: int


def active_pseudonym_keys(session: Session, ring: KeyRing) -> KeyRing:
    """The ring with the key *in use* as current (the newest key waits until a rotation switches to it)."""
    state = session.get(KeyState, PSEUDONYM)
    if state is None:
        session.add(KeyState(purpose=PSEUDONYM, active_key_id=ring.current_id, changed_at=utcnow()))
        session.flush()
        return ring
    if state.active_key_id not in ring.keys:
        raise ConfigurationError(
            f"pseudonym key {state.active_key_id!r} is in use but missing from the key ring"
        )
    return KeyRing(state.active_key_id, ring.keys)


def rotate_pseudonyms(session: Session, ring: KeyRing, vault_keys: KeyRing, actor: str) -> Rotation:
    """Re-key every pseudonym to the ring's newest key and switch to it, all in the caller's transaction."""
    active = active_pseudonym_keys(session, ring)
    if active.current_id == ring.current_id:
        return Rotation(PSEUDONYM, active.current_id, ring.current_id, 0)
    identities = read_identities(
        session, vault_keys, None, actor=actor, purpose="key_rotation", subject="pseudonym key rotation"
    )
    mapping = {old: pseudonymise(ring, payload["resident_id"]) for old, payload in identities.items()}
    for old, new in mapping.items():
        for table, column in PSEUDONYM_COLUMNS:
            session.execute(update(table).where(column == old).values({column.key: new}))
        record = session.get(IdentityVault, old)
        assert record is not None
        payload = identities[old]
        key_id, blob = seal(vault_keys, new, payload)
        district = record.district_code
        session.execute(delete(IdentityVault).where(IdentityVault.resident == old))
        session.add(
            IdentityVault(
                resident=new,
                key_id=key_id,
                ciphertext=blob,
                district_code=district,
                payload_digest=payload_digest(vault_keys, new, payload),
                updated_at=utcnow(),
            )
        )
    state = session.get(KeyState, PSEUDONYM)
    assert state is not None
    state.active_key_id, state.changed_at = ring.current_id, utcnow()
    audit.append(
        session,
        actor,
        "key_rotation",
        PSEUDONYM,
        from_key=active.current_id,
        to_key=ring.current_id,
        residents=len(mapping),
    )
    session.flush()
    return Rotation(PSEUDONYM, active.current_id, ring.current_id, len(mapping))


def rotate_vault(session: Session, vault_keys: KeyRing, actor: str) -> Rotation:
    """Re-encrypt every sealed record in the warehouse that is not under the newest vault key."""
    count = 0
    stale = [
        r.resident
        for r in session.execute(select(IdentityVault)).scalars()
        if r.key_id != vault_keys.current_id
    ]
    identities = (
        read_identities(
            session, vault_keys, stale, actor=actor, purpose="key_rotation", subject="vault key rotation"
        )
        if stale
        else {}
    )
    for resident, payload in identities.items():
        record = session.get(IdentityVault, resident)
        assert record is not None
        record.key_id, record.ciphertext = seal(vault_keys, resident, payload)
        record.payload_digest = payload_digest(vault_keys, resident, payload)
        count += 1
    for consent in session.execute(
        select(ConsentRecord).where(ConsentRecord.proxy_ciphertext.is_not(None))
    ).scalars():
        count += _reseal(vault_keys, consent.consent_id, consent, "proxy_ciphertext")
    for review in session.execute(select(LinkReview)).scalars():
        count += _reseal(vault_keys, review_context(review.customer_key), review, "partner_identity")
    for held in session.execute(select(HeldRows).where(HeldRows.sealed.is_not(None))).scalars():
        count += _reseal(vault_keys, held_context(held.review_id, held.delivery_pk), held, "sealed")
    for account in session.execute(
        select(AccountRecord).where(AccountRecord.totp_secret.is_not(None))
    ).scalars():
        count += _reseal(vault_keys, totp_context(account.login), account, "totp_secret")
    for visit in session.execute(select(Outcome).where(Outcome.note_sealed.is_not(None))).scalars():
        count += _reseal(vault_keys, note_context(visit.entry_id), visit, "note_sealed")
    audit.append(session, actor, "key_rotation", "vault", to_key=vault_keys.current_id, records=count)
    session.flush()
    return Rotation("vault", "*", vault_keys.current_id, count)


def _reseal(keys: KeyRing, context: str, holder: object, attribute: str) -> int:
    blob = getattr(holder, attribute)
    if blob is None:
        return 0
    fresh = reseal_bytes(keys, context, blob)
    setattr(holder, attribute, fresh)
    return int(fresh is not blob)
