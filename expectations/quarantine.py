"""Quarantine: rejected batches and rows are kept encrypted (they hold identifiers) beside their reasons."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.inbox_guard import DeliveryFolder, EntryRefused
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


def keep_files(
    root: Path, keys: KeyRing, partner_id: str, delivery_id: str, source: Path, names: Sequence[str]
) -> list[str]:
    """Seal the manifest and the files it lists into quarantine, so the raw batch is never lost.

    Only regular files are read, never through a link; anything else in the folder is left where it is.
    """
    target = folder_for(root, partner_id, delivery_id)
    target.mkdir(parents=True, exist_ok=True)
    kept: list[str] = []
    try:
        folder = DeliveryFolder(source)
    except (EntryRefused, FileNotFoundError):
        return kept
    with folder:
        for name in sorted({"manifest.json", *names}):
            try:
                body = folder.read_bytes(name)
            except (EntryRefused, FileNotFoundError):
                continue
            blob = seal_bytes(keys, _context(partner_id, delivery_id, name), body)
            (target / (name + SEALED)).write_bytes(blob)
            kept.append(name)
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


def find_delivery(session: Session, partner_id: str, delivery_id: str) -> Delivery:
    """A delivery by partner and id, or NotFoundError."""
    found = session.execute(
        select(Delivery).where(Delivery.partner_id == partner_id, Delivery.delivery_id == delivery_id)
    ).scalar_one_or_none()
    if found is None:
        raise NotFoundError(
            f"配信 {partner_id}/{delivery_id} はありません / no delivery {partner_id}/{delivery_id}"
        )
    return found


def _delivery(session: Session, partner_id: str, delivery_id: str) -> Delivery:
    found = find_delivery(session, partner_id, delivery_id)
    if found.status not in HELD_BACK:
        raise InputError(
            f"{partner_id}/{delivery_id} is {found.status}: only a quarantined or refused delivery"
        )
    return found


def _private_folder(path: Path) -> None:
    path.mkdir(mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)


def _restore(root: Path, keys: KeyRing, released: Path, partner_id: str, delivery_id: str) -> int:
    """Unseal a quarantined delivery into released/<partner>/<delivery>/ (folders 0700, files 0600)."""
    sealed = sorted(folder_for(root, partner_id, delivery_id).glob("*" + SEALED))
    names = [p.name.removesuffix(SEALED) for p in sealed]
    names = [n for n in names if n != "rejected_rows.jsonl"]
    if not names:
        return 0
    for folder in (released, released / partner_id):
        _private_folder(folder)
    target = released / partner_id / delivery_id
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)  # an earlier release's copy
    elif target.is_symlink() or target.exists():
        target.unlink()
    _private_folder(target)
    for name in names:
        fd = os.open(target / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(open_file(root, keys, partner_id, delivery_id, name))
    return len(names)


def release(
    session: Session,
    root: Path,
    keys: KeyRing,
    inbox: Path,
    partner_id: str,
    delivery_id: str,
    actor: str,
    released: Path | None = None,
    why: str = "",
) -> Delivery:
    """Let the next run read the delivery again.

    When the partner's folder is gone from the inbox, the sealed copy is restored into the steward-only
    folder `released` (never into the inbox), where the next run reads it.
    """
    delivery = _delivery(session, partner_id, delivery_id)
    restored = 0
    inbox_folder = inbox / partner_id / delivery_id
    if not (inbox_folder.is_dir() and not inbox_folder.is_symlink()):
        if released is None:
            raise InputError("released folder not given: a sealed delivery is never restored into the inbox")
        restored = _restore(root, keys, released, partner_id, delivery_id)
    previous = delivery.status
    delivery.status = RELEASED
    audit.append(
        session,
        actor,
        "quarantine_release",
        f"{partner_id}/{delivery_id}",
        previous=previous,
        files_restored=restored,
        why=why,
    )
    return delivery


def discard(
    session: Session, root: Path, partner_id: str, delivery_id: str, actor: str, why: str = ""
) -> Delivery:
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
        why=why,
    )
    return delivery
