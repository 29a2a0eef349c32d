"""Taking one person's rows out of a sealed delivery (archive or quarantine) and sealing the rest again.

Rows are numbered as ingest numbers them: 1 is the first data row of the first file the manifest lists,
counting on through the following files (blank lines skipped). The manifest's checksums and row counts
are rewritten to match, so the delivery can still be re-processed.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from identity.keys import KeyRing
from identity.vault import seal_bytes, unseal_bytes
from warehouse.private_files import write_private

SEALED = ".sealed"
MANIFEST = "manifest.json"
REJECTED = "rejected_rows.jsonl"  # quarantine's sealed rejected rows, one JSON object with row_no per line
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Rewritten:
    """What a rewrite did: rows taken out, data rows left in the delivery's files."""

    removed: int
    remaining: int


def _codec(encoding: str) -> str:
    return "utf-8" if encoding.replace("_", "-").lower() in ("utf-8", "utf-8-sig", "utf8") else encoding


def _csv_without(data: bytes, codec: str, drop: set[int]) -> tuple[bytes, int, int]:
    """The CSV without the rows at the given 0-based positions; (bytes, rows before, rows removed)."""
    frame = pd.read_csv(
        io.BytesIO(data),
        encoding="utf-8-sig" if codec == "utf-8" else codec,
        dtype=str,
        keep_default_na=False,
        skip_blank_lines=True,
    )
    total = len(frame)
    hit = sorted(p for p in drop if p < total)
    if not hit:
        return data, total, 0
    text = frame.drop(index=frame.index[hit]).to_csv(index=False, lineterminator="\n")
    body = text.encode(codec)
    return (BOM + body if data.startswith(BOM) else body), total, len(hit)


def _jsonl_without(data: bytes, codec: str, drop: set[int]) -> tuple[bytes, int, int]:
    lines = data.decode(codec).splitlines(keepends=True)
    kept, position, removed = [], 0, 0
    for line in lines:
        if line.strip():
            if position in drop:
                removed += 1
                position += 1
                continue
            position += 1
        kept.append(line)
    return "".join(kept).encode(codec), position, removed


def _rejected_without(data: bytes, rows: set[int]) -> tuple[bytes, int]:
    lines = [line for line in data.decode().splitlines() if line.strip()]
    kept = [line for line in lines if int(json.loads(line).get("row_no", 0)) not in rows]
    return "\n".join(kept).encode(), len(lines) - len(kept)


def remove_rows(folder: Path, keys: KeyRing, context: str, encoding: str, rows: set[int]) -> Rewritten:
    """Re-seal a delivery folder without the given row numbers; `context` is e.g. `archive/<p>/<d>`."""

    def opened(name: str) -> bytes:
        return unseal_bytes(keys, f"{context}/{name}", (folder / (name + SEALED)).read_bytes())

    def seal(name: str, data: bytes) -> None:
        write_private(folder / (name + SEALED), seal_bytes(keys, f"{context}/{name}", data))

    removed = remaining = 0
    codec = _codec(encoding)
    if (folder / (MANIFEST + SEALED)).is_file():
        manifest = json.loads(opened(MANIFEST))
        offset, changed = 0, False
        for entry in manifest.get("files") or []:
            name = str(entry.get("name", ""))
            if not (folder / (name + SEALED)).is_file():
                continue
            data = opened(name)
            positions = {r - offset - 1 for r in rows if r > offset}
            without = _jsonl_without if name.endswith(".jsonl") else _csv_without
            fresh, total, taken = without(data, codec, positions)
            offset += total
            remaining += total - taken
            if taken:
                seal(name, fresh)
                entry["sha256"], entry["rows"] = hashlib.sha256(fresh).hexdigest(), total - taken
                removed += taken
                changed = True
        if changed:
            seal(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2).encode())
    if (folder / (REJECTED + SEALED)).is_file():
        fresh, taken = _rejected_without(opened(REJECTED), rows)
        if taken:
            seal(REJECTED, fresh)
            removed += taken
    return Rewritten(removed, remaining)
