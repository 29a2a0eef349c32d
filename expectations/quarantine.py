"""Quarantine: rejected batches and rows are kept encrypted (they hold identifiers) beside their reasons."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.keys import KeyRing
from identity.vault import reseal_bytes, seal_bytes, unseal_bytes
from warehouse import audit
from warehouse.errors import InputError, NotFoundError
from warehouse.models import Delivery
from warehouse.vocabulary import DeliveryStatus

SEALED = ".sealed"
RELEASED, DISCARDED = DeliveryStatus.RELEASED, DeliveryStatus.DISCARDED
HELD_BACK = frozenset({DeliveryStatus.QUARANTINED, DeliveryStatus.REFUSED})


def _context(partner_id: str, delivery_id: str, name: str) -> str:
    return f"quarantine/{partner_id}/{delivery_id}/{name}"


def folder_for(root: Path, partner_id: str, delivery_id: str) -> Path:
    """Where one delivery's quarantined material lives."""
    return root / partner_id / delivery_id


def keep_files(root: Path, keys: KeyRing, partner_id: str, delivery_id: str, source: Path) -> list[str]:
    """Seal every file of a delivery folder into quarantine, so the raw batch is never lost."""
    target = folder_for(root, partner_id, delivery_id)
    target.mkdir(parents=True, exist_ok=True)
    kept = []
    for path in sorted(p for p in source.iterdir() if p.is_file()):
        blob = seal_bytes(keys, _context(partner_id, delivery_id, path.name), path.read_bytes())
        (target / (path.name + SEALED)).write_bytes(blob)
        kept.append(path.name)
    return kept


def keep_rows(
    root: Path, keys: KeyRing, partner_id: str, delivery_id: str, frame: pd.DataFrame, reasons: dict[int, str]
) -> int:
    """Seal the rows rejected by row checks, each with its reason; returns how many were kept."""
    if not reasons:
        return 0
    rows = frame.loc[frame["row_no"].isin(reasons)]
    lines = [
        json.dumps(
            {"row_no": int(r["row_no"]), "reason": reasons[int(r["row_no"])], "row": r.to_dict()},
            ensure_ascii=False,
            default=str,
        )
        for _, r in rows.iterrows()
    ]
    target = folder_for(root, partner_id, delivery_id)
    target.mkdir(parents=True, exist_ok=True)
    name = "rejected_rows.jsonl"
    blob = seal_bytes(keys, _context(partner_id, delivery_id, name), "\n".join(lines).encode())
    (target / (name + SEALED)).write_bytes(blob)
    return len(lines)


def open_file(root: Path, keys: KeyRing, partner_id: str, delivery_id: str, name: str) -> bytes:
    """Decrypt one quarantined file (for a steward's release, never for display)."""
    blob = (folder_for(root, partner_id, delivery_id) / (name + SEALED)).read_bytes()
    return unseal_bytes(keys, _context(partner_id, delivery_id, name), blob)


def reseal_all(root: Path, keys: KeyRing) -> int:
    """Re-encrypt every quarantined file under the current key, one atomic rename at a time (re-runnable)."""
    count = 0
    for path in sorted(root.glob("*/*/*" + SEALED)) if root.is_dir() else []:
        partner_id, delivery_id = path.parent.parent.name, path.parent.name
        blob = path.read_bytes()
        fresh = reseal_bytes(keys, _context(partner_id, delivery_id, path.name.removesuffix(SEALED)), blob)
        if fresh is not blob:
            staging = path.with_name(path.name + ".new")
            staging.write_bytes(fresh)
            staging.replace(path)
            count += 1
    return count


def _delivery(session: Session, partner_id: str, delivery_id: str) -> Delivery:
    found = session.execute(
        select(Delivery).where(Delivery.partner_id == partner_id, Delivery.delivery_id == delivery_id)
    ).scalar_one_or_none()
    if found is None:
        raise NotFoundError(f"no delivery {partner_id}/{delivery_id}")
    if found.status not in HELD_BACK:
        raise InputError(
            f"{partner_id}/{delivery_id} is {found.status}: only a quarantined or refused delivery"
        )
    return found


def release(
    session: Session, root: Path, keys: KeyRing, inbox: Path, partner_id: str, delivery_id: str, actor: str
) -> Delivery:
    """Let the next run read the delivery again (files restored from quarantine if the inbox lost them)."""
    delivery = _delivery(session, partner_id, delivery_id)
    target = inbox / partner_id / delivery_id
    restored = 0
    if not target.is_dir():
        target.mkdir(parents=True)
        for path in sorted(folder_for(root, partner_id, delivery_id).glob("*" + SEALED)):
            name = path.name.removesuffix(SEALED)
            if name != "rejected_rows.jsonl":
                (target / name).write_bytes(open_file(root, keys, partner_id, delivery_id, name))
                restored += 1
    previous = delivery.status
    delivery.status = RELEASED
    audit.append(
        session,
        actor,
        "quarantine_release",
        f"{partner_id}/{delivery_id}",
        previous=previous,
        files_restored=restored,
    )
    return delivery


def discard(session: Session, root: Path, partner_id: str, delivery_id: str, actor: str) -> Delivery:
    """Give a delivery up for good: its sealed copy is deleted and it is never read again."""
    delivery = _delivery(session, partner_id, delivery_id)
    folder = folder_for(root, partner_id, delivery_id)
    removed = 0
    for path in sorted(folder.glob("*" + SEALED)) if folder.is_dir() else []:
        path.unlink()
        removed += 1
    previous = delivery.status
    delivery.status = DISCARDED
    audit.append(
        session,
        actor,
        "quarantine_discard",
        f"{partner_id}/{delivery_id}",
        previous=previous,
        files_deleted=removed,
    )
    return delivery
