"""Byte-exact writing of CSV, JSON Lines, manifests and small text files into the data home."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
from collections.abc import Sequence
from pathlib import Path

from mimamori_demo.town.lives import jst_iso
from mimamori_demo.town.partners import PartnerSpec

__all__ = ["csv_bytes", "jsonl_bytes", "write_bytes", "write_delivery"]


def csv_bytes(columns: Sequence[str], rows: Sequence[Sequence[str]], encoding: str) -> bytes:
    """A CSV file with a header row, CRLF line ends, in the given encoding (utf-8-sig adds the BOM)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def jsonl_bytes(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """One JSON object per line, UTF-8, empty values as null."""
    lines = (
        json.dumps({k: v or None for k, v in zip(columns, row, strict=True)}, ensure_ascii=False)
        for row in rows
    )
    return "".join(line + "\n" for line in lines).encode("utf-8")


def write_bytes(path: Path, data: bytes) -> None:
    """Write a file, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_delivery(
    inbox: Path,
    spec: PartnerSpec,
    period_start: datetime.datetime,
    created_at: datetime.datetime,
    rows: Sequence[Sequence[str]],
) -> str:
    """Write one day's data file and its manifest under inbox/<partner>/<delivery_id>/; return the id."""
    period_end = period_start + datetime.timedelta(days=1)
    delivery_id = f"{period_end:%Y%m%d}-01"
    folder = inbox / spec.id / delivery_id
    if spec.file_name.endswith(".jsonl"):
        data = jsonl_bytes(spec.columns, rows)
    else:
        data = csv_bytes(spec.columns, rows, spec.encoding)
    write_bytes(folder / spec.file_name, data)
    manifest = {
        "spec_version": "1",
        "partner_id": spec.id,
        "sector": spec.sector,
        "delivery_id": delivery_id,
        "period_start": jst_iso(period_start),
        "period_end": jst_iso(period_end),
        "files": [{"name": spec.file_name, "sha256": hashlib.sha256(data).hexdigest(), "rows": len(rows)}],
        "created_at": jst_iso(created_at),
    }
    write_bytes(
        folder / "manifest.json", (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    )
    return delivery_id
