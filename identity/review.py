"""The steward's link review queue: undecided identities, their held rows, and the audited decisions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.keys import KeyRing
from identity.resolver import PENDING, REJECTED, review_context
from identity.vault import seal_bytes, unseal_bytes
from warehouse import audit
from warehouse.db import utcnow
from warehouse.errors import InputError, NotFoundError
from warehouse.models import HeldRows, LinkMemory, LinkReview
from warehouse.vocabulary import ReviewStatus

ACCEPTED = ReviewStatus.ACCEPTED


@dataclass(frozen=True)
class Release:
    """Held rows whose review is decided: the rows, the delivery they came in, and the decision."""

    held: HeldRows
    review: LinkReview
    rows: pd.DataFrame


def held_context(review_id: int, delivery_pk: int) -> str:
    """What a review's held rows are bound to."""
    return f"held/{review_id}/{delivery_pk}"


def hold(session: Session, keys: KeyRing, review_id: int, delivery_pk: int, rows: pd.DataFrame) -> HeldRows:
    """Seal the rows of a delivery that wait on a review; they are neither lost nor guessed."""
    data = rows.to_json(orient="records", date_format="iso", force_ascii=False).encode()
    held = HeldRows(
        review_id=review_id,
        delivery_pk=delivery_pk,
        rows=len(rows),
        sealed=seal_bytes(keys, held_context(review_id, delivery_pk), data),
    )
    session.add(held)
    session.flush()
    return held


def pending(session: Session) -> list[LinkReview]:
    """Reviews waiting for a steward, oldest first."""
    return list(
        session.execute(
            select(LinkReview).where(LinkReview.status == PENDING).order_by(LinkReview.id)
        ).scalars()
    )


def partner_side(keys: KeyRing, review: LinkReview) -> dict[str, Any]:
    """The partner's identity fields of a review (for the steward's screen only)."""
    result: dict[str, Any] = json.loads(
        unseal_bytes(keys, review_context(review.customer_key), review.partner_identity)
    )
    return result


def decide(session: Session, review_id: int, accept: bool, actor: str, current_key_id: str) -> LinkReview:
    """Accept or reject a pending review: remembered for the customer, audited; held rows go next run."""
    review = session.get(LinkReview, review_id)
    if review is None:
        raise NotFoundError(f"no link review {review_id}")
    if review.status != PENDING:
        raise InputError(f"link review {review_id} is already {review.status}")
    review.status = ACCEPTED if accept else REJECTED
    review.decided_at, review.decided_by = utcnow(), actor
    memory = session.get(LinkMemory, review.customer_key) or LinkMemory(customer_key=review.customer_key)
    memory.key_id, memory.partner_id, memory.identity_digest = (
        current_key_id,
        review.partner_id,
        review.identity_digest,
    )
    memory.resident = review.candidate if accept else None
    memory.decision, memory.score = review.status, review.score
    memory.decided_at, memory.decided_by = review.decided_at, actor
    session.add(memory)
    audit.append(
        session,
        actor,
        "link_review",
        f"review/{review_id}",
        decision=review.status,
        partner_id=review.partner_id,
        score=review.score,
    )
    return review


def releasable(session: Session, keys: KeyRing) -> list[Release]:
    """Held rows whose review has been decided and that have not been released yet."""
    found = session.execute(
        select(HeldRows, LinkReview)
        .join(LinkReview, HeldRows.review_id == LinkReview.id)
        .where(HeldRows.released_at.is_(None), LinkReview.status != PENDING)
        .order_by(HeldRows.id)
    ).tuples()
    releases = []
    for held, review in found:
        data = unseal_bytes(keys, held_context(held.review_id, held.delivery_pk), held.sealed or b"[]")
        rows = pd.DataFrame(json.loads(data))
        for column in ("event_start", "event_end"):
            if column in rows:
                rows[column] = pd.to_datetime(rows[column])
        releases.append(Release(held, review, rows))
    return releases


def mark_released(held: HeldRows, outcome: str) -> None:
    """Forget the sealed rows once they are loaded or dropped, keeping the count and the outcome."""
    held.sealed, held.released_at, held.outcome = None, utcnow(), outcome
