"""Key rotation: re-key pseudonyms or re-encrypt the vault in one transaction that a crash cannot half-apply.

The pseudonym key in use is recorded in `key_state` and switched in the same transaction that
rewrites every pseudonym, so a crash leaves the old key in use and the old data consistent; the
rotation can simply be run again. Vault records carry their key id, so they stay readable under the
old key until re-encrypted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, MetaData, String, Table, delete, insert, select, update
from sqlalchemy.orm import Session

from identity.access import read_identities
from identity.keys import KeyRing
from identity.pseudonym import keyed_digest, pseudonymise
from identity.resolver import review_context
from identity.review import held_context
from identity.vault import payload_digest, reseal_bytes, seal
from warehouse import audit
from warehouse.account_models import AccountRecord, totp_context
from warehouse.db import utcnow
from warehouse.errors import ConfigurationError
from warehouse.models import (
    Base,
    ConsentRecord,
    HeldRows,
    IdentityVault,
    KeyState,
    LinkReview,
    Outcome,
    note_context,
    pseudonym_columns,
)

PSEUDONYM = "pseudonym"
# Old pseudonym -> new, for one rotation: a temporary table, so each column is rewritten in one statement.
_MAP = Table(
    "pseudonym_rekey",
    MetaData(),
    Column("old", String(48), primary_key=True),
    Column("new", String(48), nullable=False),
    prefixes=["TEMPORARY"],
)


def rekeyed_columns() -> list[Column[Any]]:
    """Every column the models mark as holding a pseudonym, but the vault's key (its records are resealed)."""
    vault = IdentityVault.__table__.c.resident
    return [c for c in pseudonym_columns(Base.metadata) if c is not vault]


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
    orphans = _rekey_columns(session, ring, mapping)
    for old, new in mapping.items():
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
        without_identity=orphans,
    )
    session.flush()
    return Rotation(PSEUDONYM, active.current_id, ring.current_id, len(mapping))


def _rekey_columns(session: Session, ring: KeyRing, mapping: dict[str, str]) -> int:
    """Rewrite every marked column through the mapping; values without an identity get a one-way new value.

    A pseudonym whose identity is gone (a purged resident's tombstone) cannot be derived again; it is
    replaced by a keyed hash of itself under the new key, so nothing under the old key remains and the
    rows of one purged person stay together. Returns how many such values there were.
    """
    connection = session.connection()
    _MAP.drop(connection, checkfirst=True)  # left behind on a connection whose rotation failed
    _MAP.create(connection)
    if mapping:
        connection.execute(insert(_MAP), [{"old": o, "new": n} for o, n in mapping.items()])
    orphaned: set[str] = set()
    prefix = f"{ring.current_id}:"
    for column in rekeyed_columns():
        new = select(_MAP.c.new).where(_MAP.c.old == column).scalar_subquery()
        connection.execute(
            update(column.table).where(column.in_(select(_MAP.c.old))).values({column.key: new})
        )
        left = select(column).where(column.is_not(None), ~column.startswith(prefix, autoescape=True))
        for old in set(connection.execute(left.distinct()).scalars()):
            orphaned.add(old)
            replacement = f"{prefix}{keyed_digest(ring, 'orphan', old)[:32]}"
            connection.execute(update(column.table).where(column == old).values({column.key: replacement}))
    _MAP.drop(connection)
    return len(orphaned)


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
