"""The sealed archive: a loaded delivery leaves the partner inbox, sealed with the vault key, to re-process.

A delivery folder is kept as `archive/<partner>/<delivery>/<file>.sealed` (AES-GCM through
`identity.vault.seal_bytes`, bound to its path) beside an `archived_on` date; only the manifest and the
regular files it lists are kept. `archive_members` says which resident has rows in which delivery, so a
withdrawal can take exactly those rows out again (`rows_removed`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.keys import KeyRing
from identity.vault import reseal_bytes, seal_bytes, unseal_bytes
from warehouse.errors import InputError
from warehouse.models import ArchiveMember
from warehouse.private_files import private_dir, write_private

SEALED = ".sealed"
STAMP = "archived_on"
MANIFEST = "manifest.json"


def _context(partner_id: str, delivery_id: str, name: str) -> str:
    return f"archive/{partner_id}/{delivery_id}/{name}"


def folder_for(root: Path, partner_id: str, delivery_id: str) -> Path:
    """Where one delivery's sealed copy lives."""
    return root / partner_id / delivery_id


def _regular(path: Path) -> bytes | None:
    """The bytes of a regular file, read without following a link; None for anything else."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        return handle.read()


def _listed(manifest: bytes) -> list[str]:
    try:
        files = json.loads(manifest).get("files") or []
        names = [str(f["name"]) for f in files if isinstance(f, dict)]
    except (ValueError, AttributeError, KeyError, TypeError):
        return []
    return [n for n in names if n and n == Path(n).name and n not in (MANIFEST, STAMP)]


def seal_delivery(
    root: Path, keys: KeyRing, partner_id: str, delivery_id: str, source: Path, on: dt.date
) -> int:
    """Seal the manifest and the regular files it lists into the archive; returns how many files."""
    manifest = _regular(source / MANIFEST)
    if manifest is None:
        raise InputError(f"{partner_id}/{delivery_id}: no manifest to archive")
    target = private_dir(folder_for(root, partner_id, delivery_id))
    kept = 0
    for name, data in [(MANIFEST, manifest), *((n, _regular(source / n)) for n in _listed(manifest))]:
        if data is not None:
            write_private(
                target / (name + SEALED), seal_bytes(keys, _context(partner_id, delivery_id, name), data)
            )
            kept += 1
    write_private(target / STAMP, on.isoformat().encode())
    return kept


def open_file(root: Path, keys: KeyRing, partner_id: str, delivery_id: str, name: str) -> bytes:
    """Decrypt one archived file (to re-process the delivery, never for display)."""
    blob = (folder_for(root, partner_id, delivery_id) / (name + SEALED)).read_bytes()
    return unseal_bytes(keys, _context(partner_id, delivery_id, name), blob)


def archived(root: Path) -> Iterator[tuple[str, str, dt.date | None]]:
    """Every archived delivery: partner, delivery id and the date it was archived (None when unknown)."""
    for folder in sorted(root.glob("*/*")) if root.is_dir() else []:
        if folder.is_dir() and not folder.is_symlink():
            stamp = folder / STAMP
            try:
                on: dt.date | None = dt.date.fromisoformat(stamp.read_text().strip())
            except (OSError, ValueError):
                on = None
            yield folder.parent.name, folder.name, on


def reseal_all(root: Path, keys: KeyRing) -> int:
    """Re-encrypt every archived file under the current vault key (re-runnable); returns how many changed."""
    count = 0
    for path in sorted(root.glob("*/*/*" + SEALED)) if root.is_dir() else []:
        context = _context(path.parent.parent.name, path.parent.name, path.name.removesuffix(SEALED))
        blob = path.read_bytes()
        fresh = reseal_bytes(keys, context, blob)
        if fresh is not blob:
            write_private(path, fresh)
            count += 1
    return count


def members_of(rows: pd.DataFrame, residents: pd.Series) -> pd.DataFrame:
    """Pairs (resident, row number) of the rows linked to a resident, for `record_members`."""
    linked = residents.notna()
    return pd.DataFrame({"resident": residents.loc[linked], "row_no": rows.loc[linked, "row_no"]})


def record_members(session: Session, partner_id: str, delivery_id: str, pairs: Iterable[pd.DataFrame]) -> int:
    """Remember which residents have rows in a delivery (and which rows); returns how many residents."""
    frames = [p for p in pairs if len(p)]
    if not frames:
        return 0
    every = pd.concat(frames, ignore_index=True).drop_duplicates()
    known = {
        m.resident: m
        for m in session.execute(
            select(ArchiveMember).where(
                ArchiveMember.partner_id == partner_id, ArchiveMember.delivery_id == delivery_id
            )
        ).scalars()
    }
    grouped = every.groupby("resident")["row_no"].agg(lambda s: sorted(int(v) for v in set(s)))
    for resident, numbers in grouped.items():
        member = known.get(str(resident))
        if member is None:
            session.add(
                ArchiveMember(
                    partner_id=partner_id, delivery_id=delivery_id, resident=str(resident), rows=numbers
                )
            )
        else:
            member.rows = sorted(set(member.rows) | set(numbers))
    session.flush()
    return len(grouped)
