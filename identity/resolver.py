"""Resolving partner identities: remembered links first, then the scorer; undecided cases go to review."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.keys import KeyRing
from identity.link import LINK, REVIEW, Keys, Linker, identity_keys
from identity.pseudonym import keyed_digest
from identity.vault import seal_bytes
from warehouse.db import utcnow
from warehouse.models import LinkMemory, LinkReview
from warehouse.vocabulary import ReviewStatus

LINKED = frozenset({LINK, ReviewStatus.ACCEPTED})
REJECTED, PENDING = ReviewStatus.REJECTED, ReviewStatus.PENDING
REMEMBERED = "remembered"
# A remembered customer whose consent ended: their rows are dropped with this reason, never linked again.
ENDED = frozenset({"withdrawn", "expired"})


@dataclass(frozen=True)
class Resolution:
    """Where one partner identity goes: a resident, a pending review, or nowhere (with the outcome)."""

    outcome: str
    resident: str | None = None
    review_id: int | None = None
    # Identifiers given but unreadable ("<field>: <reason>"), counted per delivery, never the value.
    refused: tuple[str, ...] = ()


def review_context(customer_key: str) -> str:
    """What a review's sealed partner identity is bound to."""
    return "review/" + customer_key


def _keys_text(keys: Keys) -> str:
    return "|".join(
        (
            keys.kana,
            keys.kanji,
            keys.birth.isoformat() if keys.birth else "",
            "/".join(keys.address),
            "/".join(keys.phone),
        )
    )


class Resolver:
    """Links the identities of one partner's deliveries, remembering accepted links by keyed customer id."""

    def __init__(
        self,
        session: Session,
        keys: KeyRing,
        vault_keys: KeyRing,
        linker: Linker,
        prefecture: str,
        city: str,
        actor: str,
    ):
        self.session, self.keys, self.vault_keys, self.linker = session, keys, vault_keys, linker
        self.prefecture, self.city, self.actor = prefecture, city, actor
        self._memory: dict[str, dict[str, LinkMemory]] = {}

    def _remembered(self, partner_id: str) -> dict[str, LinkMemory]:
        if partner_id not in self._memory:
            rows = self.session.execute(
                select(LinkMemory).where(LinkMemory.partner_id == partner_id)
            ).scalars()
            self._memory[partner_id] = {m.customer_key: m for m in rows}
        return self._memory[partner_id]

    def customer_key(self, partner_id: str, customer_id: str, key_id: str | None = None) -> str:
        """The keyed hash a partner's customer id is remembered under (current key unless named)."""
        ring = KeyRing(key_id, self.keys.keys) if key_id else self.keys
        return keyed_digest(ring, "customer", partner_id, customer_id)

    def resolve(self, partner_id: str, identity: tuple[str, ...]) -> Resolution:
        """Resolve one distinct identity tuple of IDENTIFIER_COLUMNS."""
        _, kana, kanji, birth, address, phone = identity
        keys = identity_keys(kana, kanji, birth, address, phone, self.prefecture, self.city)
        return replace(self._resolve(partner_id, identity, keys), refused=keys.refused)

    def _resolve(self, partner_id: str, identity: tuple[str, ...], keys: Keys) -> Resolution:
        customer_id = identity[0]
        text = _keys_text(keys)
        digest = keyed_digest(self.keys, "identity", partner_id, text)
        memory = self._remembered(partner_id)
        current_key = self.customer_key(partner_id, customer_id)
        found = memory.get(current_key) or self._older(memory, partner_id, customer_id)
        if found is not None and found.decision in ENDED:
            return Resolution(found.decision)
        if found is not None and found.identity_digest == self._digest_under(found.key_id, partner_id, text):
            if found.key_id != self.keys.current_id:  # remembered under an older key: re-key it
                self.remember(
                    partner_id,
                    current_key,
                    digest,
                    found.resident,
                    found.decision,
                    found.score,
                    found.decided_by,
                    found,
                )
            if found.decision in LINKED:
                return Resolution(REMEMBERED, found.resident)
            if found.decision == REJECTED:
                return Resolution(REJECTED)
        decision = self.linker.decide(keys)
        if decision.outcome == LINK:
            self.remember(
                partner_id, current_key, digest, decision.resident, LINK, decision.score, "linker", found
            )
            return Resolution(LINK, decision.resident)
        if decision.outcome == REVIEW and decision.resident is not None:
            review = self._review(
                partner_id, current_key, digest, decision.resident, decision.score, identity
            )
            return Resolution(REVIEW, review_id=review.id)
        return Resolution(decision.outcome)

    def _digest_under(self, key_id: str, partner_id: str, text: str) -> str:
        return keyed_digest(KeyRing(key_id, self.keys.keys), "identity", partner_id, text)

    def _older(self, memory: dict[str, LinkMemory], partner_id: str, customer_id: str) -> LinkMemory | None:
        for key_id in self.keys.keys:
            if key_id != self.keys.current_id:
                found = memory.get(self.customer_key(partner_id, customer_id, key_id))
                if found is not None:
                    return found
        return None

    def remember(
        self,
        partner_id: str,
        customer_key: str,
        digest: str,
        resident: str | None,
        decision: str,
        score: float,
        by: str,
        previous: LinkMemory | None = None,
    ) -> None:
        """Write (or re-key) the remembered decision for a customer."""
        if previous is not None and previous.customer_key != customer_key:
            self.session.delete(previous)
            self._remembered(partner_id).pop(previous.customer_key, None)
            self.session.flush()
        # The partner's whole memory is loaded: a miss there is a new customer, no lookup (and flush) per row.
        entry = self._remembered(partner_id).get(customer_key) or LinkMemory(customer_key=customer_key)
        entry.key_id, entry.partner_id, entry.identity_digest = self.keys.current_id, partner_id, digest
        entry.resident, entry.decision, entry.score = resident, decision, score
        entry.decided_at, entry.decided_by = utcnow(), by
        self.session.add(entry)
        self._remembered(partner_id)[customer_key] = entry

    def _review(
        self,
        partner_id: str,
        customer_key: str,
        digest: str,
        candidate: str,
        score: float,
        identity: tuple[str, ...],
    ) -> LinkReview:
        existing = self.session.execute(
            select(LinkReview).where(
                LinkReview.customer_key == customer_key, LinkReview.identity_digest == digest
            )
        ).scalar_one_or_none()
        if existing is not None:
            return existing
        fields: dict[str, Any] = dict(
            zip(
                ("partner_customer_id", "name_kana", "name_kanji", "birth_date", "address", "phone"),
                identity,
                strict=True,
            )
        )
        review = LinkReview(
            partner_id=partner_id,
            customer_key=customer_key,
            identity_digest=digest,
            candidate=candidate,
            score=score,
            status=PENDING,
            created_at=utcnow(),
            partner_identity=seal_bytes(
                self.vault_keys, review_context(customer_key), json.dumps(fields, ensure_ascii=False).encode()
            ),
        )
        self.session.add(review)
        self.session.flush()
        return review
