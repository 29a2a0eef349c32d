"""Quarantine: rejected batches and rows are kept encrypted (they hold identifiers) beside their reasons."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from identity.keys import KeyRing
from identity.vault import reseal_bytes, seal_bytes, unseal_bytes

SEALED = ".sealed"


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
