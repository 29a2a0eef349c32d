"""Delivery folders: manifest, checksums and row counts, agreement checks; nothing is half-read."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.read import TextCheck, pieces
from connectors.registry import Partner
from connectors.timeparse import to_jst_naive
from warehouse.vocabulary import DeliveryStatus

MANIFEST = "manifest.json"
DATA_SUFFIXES = (".csv", ".jsonl")

WAITING, REFUSED, READY = DeliveryStatus.WAITING, DeliveryStatus.REFUSED, DeliveryStatus.READY


@dataclass(frozen=True)
class ManifestFile:
    """One data file named by a manifest."""

    name: str
    sha256: str
    rows: int


@dataclass(frozen=True)
class Manifest:
    """A parsed, trusted manifest (times as naive JST)."""

    partner_id: str
    sector: str
    delivery_id: str
    period_start: dt.datetime
    period_end: dt.datetime
    created_at: dt.datetime | None
    files: tuple[ManifestFile, ...]


@dataclass(frozen=True)
class Check:
    """The verdict on a delivery folder: ready (with its manifest), waiting, or refused, and why."""

    folder: Path
    partner_id: str
    delivery_id: str
    status: str
    reason: str | None = None
    manifest: Manifest | None = None
    # A ready delivery whose bytes are not text in the partner's encoding: quarantined with this reason.
    unreadable: str | None = None


def scan_inbox(inbox: Path) -> list[Path]:
    """Every delivery folder under inbox/<partner>/<delivery>/, in a stable order."""
    if not inbox.is_dir():
        return []
    return sorted(p for p in inbox.glob("*/*") if p.is_dir())


@dataclass(frozen=True)
class FileFacts:
    """What one pass over a data file found: its SHA-256, its data rows, and why it is not text, if so."""

    sha256: str
    rows: int
    unreadable: str | None


def file_facts(path: Path, encoding: str) -> FileFacts:
    """Hash, count (CSV records minus the header; JSON Lines: non-blank lines) and check a file's text.

    One streaming pass; a CSV with quotes gets a second, since quoted newlines make line counting wrong.
    """
    digest, lines, quoted = hashlib.sha256(), 0, False
    text = TextCheck(encoding, path.name)
    for piece in pieces(path):
        digest.update(piece)
        text.feed(piece)
        lines += sum(1 for line in piece.splitlines() if line.strip())
        quoted = quoted or b'"' in piece
    jsonl = path.suffix == ".jsonl"
    if quoted and not jsonl:
        with path.open(encoding="latin-1", newline="") as handle:
            lines = sum(1 for _ in csv.reader(handle))
    return FileFacts(digest.hexdigest(), lines if jsonl else max(lines - 1, 0), text.problem(csv=not jsonl))


def _parse_manifest(raw: dict[str, Any]) -> Manifest:
    files = tuple(
        ManifestFile(str(f["name"]), str(f["sha256"]).lower(), int(f["rows"])) for f in raw["files"]
    )
    created = raw.get("created_at")
    return Manifest(
        partner_id=str(raw["partner_id"]),
        sector=str(raw["sector"]),
        delivery_id=str(raw["delivery_id"]),
        period_start=to_jst_naive(str(raw["period_start"])),
        period_end=to_jst_naive(str(raw["period_end"])),
        created_at=to_jst_naive(str(created)) if created else None,
        files=files,
    )


def check_delivery(folder: Path, partners: dict[str, Partner]) -> Check:
    """Decide whether a delivery folder can be read now, must wait, or is refused (with the reason)."""
    partner_id, delivery_id = folder.parent.name, folder.name

    def verdict(
        status: str,
        reason: str | None = None,
        manifest: Manifest | None = None,
        unreadable: str | None = None,
    ) -> Check:
        return Check(folder, partner_id, delivery_id, status, reason, manifest, unreadable)

    manifest_path = folder / MANIFEST
    if not manifest_path.exists():
        return verdict(WAITING, "manifest not present yet")
    try:
        manifest = _parse_manifest(json.loads(manifest_path.read_text(encoding="utf-8-sig")))
    except (ValueError, KeyError, TypeError):
        return verdict(REFUSED, "manifest is not valid JSON of the contract (spec_version 1)")
    if manifest.partner_id != partner_id or manifest.delivery_id != delivery_id:
        return verdict(REFUSED, "manifest partner_id/delivery_id do not match the folder")
    partner = partners.get(partner_id)
    if partner is None:
        return verdict(REFUSED, f"unknown partner {partner_id!r}: not in partners.yaml")
    if manifest.sector != partner.sector:
        return verdict(REFUSED, f"sector {manifest.sector!r} differs from the registry ({partner.sector})")
    if not (
        partner.agreement_valid(manifest.period_start.date())
        and partner.agreement_valid((manifest.period_end - dt.timedelta(seconds=1)).date())
    ):
        return verdict(REFUSED, f"agreement {partner.agreement_ref} not valid for the delivery period")
    if not manifest.files:
        return verdict(REFUSED, "manifest lists no data files")
    unreadable = None
    for entry in manifest.files:
        path = folder / entry.name
        if Path(entry.name).name != entry.name or path.suffix not in DATA_SUFFIXES:
            return verdict(
                REFUSED, f"file {entry.name!r}: only .csv or .jsonl files in the folder are allowed"
            )
        if not path.exists():
            return verdict(WAITING, f"file {entry.name} not present yet", manifest)
        facts = file_facts(path, partner.encoding)
        if facts.sha256 != entry.sha256:
            return verdict(
                WAITING,
                f"file {entry.name}: SHA-256 does not match the manifest (upload incomplete?)",
                manifest,
            )
        if facts.rows != entry.rows:
            return verdict(WAITING, f"file {entry.name}: row count does not match the manifest", manifest)
        unreadable = unreadable or facts.unreadable
    return verdict(READY, None, manifest, unreadable)
