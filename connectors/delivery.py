"""Delivery folders: manifest, checksums and row counts, agreement checks; nothing is half-read."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from connectors.inbox_guard import DeliveryFolder, EntryRefused, file_reason, unlisted_reason
from connectors.read import Source, TextCheck, pieces
from connectors.registry import Partner
from connectors.timeparse import to_jst_naive
from warehouse.vocabulary import DeliveryStatus

MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 1 << 20
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
    supersedes: str | None = None


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


class Verdict(Protocol):
    """Makes the Check of the folder being checked from a status, its reason and what was read."""

    def __call__(
        self,
        status: str,
        reason: str | None = None,
        manifest: Manifest | None = None,
        unreadable: str | None = None,
    ) -> Check: ...


# Stands for the delivery of a partner entry that is a link or no folder: it is refused, never entered.
WHOLE_PARTNER = "-"


def scan_inbox(inbox: Path) -> list[Path]:
    """Every entry under inbox/<partner>/<delivery>/, in a stable order; no link is followed.

    A partner entry that is a link or no folder is returned as inbox/<partner>/-, to be refused.
    """
    if not inbox.is_dir():
        return []
    found = []
    for partner in sorted(inbox.iterdir()):
        if partner.is_symlink() or not partner.is_dir():
            found.append(partner / WHOLE_PARTNER)
            continue
        found.extend(sorted(partner.iterdir()))
    return found


@dataclass(frozen=True)
class FileFacts:
    """What one pass over a data file found: its SHA-256, its data rows, and why it is not text, if so."""

    sha256: str
    rows: int
    unreadable: str | None


def file_facts(path: Path, encoding: str, source: Source | None = None) -> FileFacts:
    """Hash, count (CSV records minus the header; JSON Lines: non-blank lines) and check a file's text.

    One streaming pass; a CSV with quotes gets a second, since quoted newlines make line counting wrong.
    The bytes come from `source` when given (`path` then only names the file).
    """
    source = path if source is None else source
    digest, lines, quoted = hashlib.sha256(), 0, False
    text = TextCheck(encoding, path.name)
    for piece in pieces(source):
        digest.update(piece)
        text.feed(piece)
        lines += sum(1 for line in piece.splitlines() if line.strip())
        quoted = quoted or b'"' in piece
    jsonl = path.suffix == ".jsonl"
    if quoted and not jsonl:
        raw = source.open("rb") if isinstance(source, Path) else source()
        with io.TextIOWrapper(raw, encoding="latin-1", newline="") as handle:
            lines = sum(1 for _ in csv.reader(handle))
    return FileFacts(digest.hexdigest(), lines if jsonl else max(lines - 1, 0), text.problem(csv=not jsonl))


class ManifestProblem(ValueError):
    """A manifest field that breaks the contract; the message names the field."""


def _time(raw: dict[str, Any], name: str) -> dt.datetime:
    try:
        return to_jst_naive(str(raw[name]))
    except ValueError:
        raise ManifestProblem(
            f"マニフェストの {name} が日時として不正です / manifest {name} is not a valid time "
            "(ISO 8601, years 1900-2199)"
        ) from None


def _rows(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ManifestProblem("マニフェストの rows が不正です / manifest files[].rows is not a whole number")
    if value != int(value) or not 0 <= value < 2**53:
        raise ManifestProblem("マニフェストの rows が不正です / manifest files[].rows is not a whole number")
    return int(value)


def _parse_manifest(raw: dict[str, Any]) -> Manifest:
    files = tuple(
        ManifestFile(str(f["name"]), str(f["sha256"]).lower(), _rows(f["rows"])) for f in raw["files"]
    )
    created = raw.get("created_at")
    start, end = _time(raw, "period_start"), _time(raw, "period_end")
    if end <= start:
        raise ManifestProblem("マニフェストの期間が不正です / manifest period_end is not after period_start")
    supersedes = raw.get("supersedes")
    return Manifest(
        partner_id=str(raw["partner_id"]),
        sector=str(raw["sector"]),
        delivery_id=str(raw["delivery_id"]),
        period_start=start,
        period_end=end,
        created_at=_time(raw, "created_at") if created else None,
        files=files,
        supersedes=str(supersedes) if supersedes else None,
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

    try:
        opened = DeliveryFolder(folder)
    except FileNotFoundError:
        return verdict(WAITING, "delivery folder is gone")
    except EntryRefused as problem:
        return verdict(REFUSED, str(problem))
    with opened:
        return _check(opened, partners, verdict)


def _check(opened: DeliveryFolder, partners: dict[str, Partner], verdict: Verdict) -> Check:
    partner_id, delivery_id = opened.path.parent.name, opened.path.name
    if not opened.exists(MANIFEST):
        return verdict(WAITING, "manifest not present yet")
    try:
        with opened.open(MANIFEST) as handle:
            text = handle.read(MAX_MANIFEST_BYTES + 1)
        if len(text) > MAX_MANIFEST_BYTES:
            return verdict(
                REFUSED, "マニフェストが大きすぎます / manifest.json is larger than 1 MiB: refused"
            )
        manifest = _parse_manifest(json.loads(text.decode("utf-8-sig")))
    except EntryRefused as problem:
        return verdict(REFUSED, str(problem))
    except ManifestProblem as problem:
        return verdict(REFUSED, str(problem))
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError):
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
    if len({f.name for f in manifest.files}) != len(manifest.files):
        return verdict(REFUSED, "マニフェストに同じファイルが重複しています / manifest lists a file twice")
    if manifest.supersedes == delivery_id:
        return verdict(
            REFUSED, "マニフェストの supersedes が自身を指しています / a delivery cannot supersede itself"
        )
    for entry in manifest.files:
        name = entry.name
        if (
            Path(name).name != name
            or "\x00" in name
            or os.sep in name
            or Path(name).suffix not in DATA_SUFFIXES
        ):
            return verdict(REFUSED, f"file {name!r}: only .csv or .jsonl files in the folder are allowed")
        if not opened.exists(name):
            continue
        if kind := opened.problem(name):
            return verdict(REFUSED, file_reason(name, kind))
    unreadable = None
    for entry in manifest.files:
        if not opened.exists(entry.name):
            return verdict(WAITING, f"file {entry.name} not present yet", manifest)
        try:
            facts = file_facts(
                opened.path / entry.name, partner.encoding, lambda name=entry.name: opened.open(name)
            )
        except EntryRefused as problem:
            return verdict(REFUSED, str(problem))
        if facts.sha256 != entry.sha256:
            return verdict(
                WAITING,
                f"file {entry.name}: SHA-256 does not match the manifest (upload incomplete?)",
                manifest,
            )
        if facts.rows != entry.rows:
            return verdict(WAITING, f"file {entry.name}: row count does not match the manifest", manifest)
        unreadable = unreadable or facts.unreadable
    listed = {MANIFEST, *(f.name for f in manifest.files)}
    others = [opened.problem(n) or "file" for n in opened.names() if n not in listed]
    if others:
        return verdict(REFUSED, unlisted_reason(others), manifest)
    if (kind := opened.problem(MANIFEST)) is not None:
        return verdict(REFUSED, file_reason(MANIFEST, kind))
    return verdict(READY, None, manifest, unreadable)
