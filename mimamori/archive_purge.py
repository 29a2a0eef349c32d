"""A withdrawal reaches raw data too: purged residents' rows leave the sealed archive and quarantine."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.archive_rows import remove_rows
from connectors.registry import load_registry
from mimamori.settings import Settings
from warehouse import audit
from warehouse.models import ArchiveMember, Delivery
from warehouse.private_files import remove_tree

HELD_BACK = ("quarantined", "refused")


def held_back(session: Session, partner_id: str, delivery_id: str) -> Delivery | None:
    """The delivery when it is quarantined or refused (a steward may still release it), else None."""
    return session.execute(
        select(Delivery).where(
            Delivery.partner_id == partner_id,
            Delivery.delivery_id == delivery_id,
            Delivery.status.in_(HELD_BACK),
        )
    ).scalar_one_or_none()


def forget(session: Session, settings: Settings, residents: Iterable[str]) -> int:
    """Take purged residents' rows out of sealed deliveries (or delete a delivery no one else is in)."""
    purged = set(residents)
    if not purged:
        return 0
    members = list(session.execute(select(ArchiveMember).where(ArchiveMember.resident.in_(purged))).scalars())
    encodings = (
        {p.id: p.encoding for p in load_registry(settings.path("partners.yaml")).values()} if members else {}
    )
    touched = 0
    for member in members:
        others = session.execute(
            select(ArchiveMember.id).where(
                ArchiveMember.partner_id == member.partner_id,
                ArchiveMember.delivery_id == member.delivery_id,
                ArchiveMember.resident.not_in(purged),
            )
        ).first()
        for kind in ("archive", "quarantine"):
            if _forget_in(session, settings, kind, member, others is None, encodings.get(member.partner_id)):
                touched += 1
        session.delete(member)
    session.flush()
    return touched


def _forget_in(
    session: Session, settings: Settings, kind: str, member: ArchiveMember, alone: bool, encoding: str | None
) -> bool:
    """Purge one member from one kind of sealed copy; the partner's plain copy of a held delivery goes too."""
    partner_id, delivery_id, resident = member.partner_id, member.delivery_id, member.resident
    folder = settings.path(kind, partner_id, delivery_id)
    if not folder.is_dir():
        return False
    subject = f"{kind}/{partner_id}/{delivery_id}"
    if alone:
        audit.append(session, settings.actor, "purge_delivery", subject, resident=resident)
        remove_tree(folder)
    else:
        done = remove_rows(folder, settings.vault_keys, subject, encoding or "utf-8", set(member.rows))
        audit.append(session, settings.actor, "purge_rows", subject, resident=resident, rows=done.removed)
    if kind == "quarantine":
        held = held_back(session, partner_id, delivery_id)
        if held is not None and alone:
            held.status = "discarded"  # nothing of it is needed any more
        inbox = settings.path("inbox", partner_id, delivery_id)
        if inbox.is_dir():  # a release restores the re-sealed copy, never the plain one with their rows
            audit.append(
                session, settings.actor, "purge_inbox", f"{partner_id}/{delivery_id}", resident=resident
            )
            remove_tree(inbox)
    return True
