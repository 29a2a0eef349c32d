"""The partner registry (`partners.yaml`): who may send what, in which encoding, by when."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.sectors import SECTORS
from warehouse.errors import InputError
from warehouse.yamlfile import INIT_HINT, load_yaml

ENCODINGS = ("utf-8", "utf-8-sig", "cp932")


@dataclass(frozen=True)
class Partner:
    """One partner's registry entry."""

    id: str
    name: str
    sector: str
    encoding: str
    due_by: dt.time
    agreement_ref: str
    valid_from: dt.date
    valid_to: dt.date
    codes: dict[str, str] = field(default_factory=dict)

    def agreement_valid(self, day: dt.date) -> bool:
        """True when the watch-over agreement covers this day."""
        return self.valid_from <= day <= self.valid_to

    def canonical_code(self, code: str) -> str | None:
        """The canonical event type for a partner code (canonical codes pass through), or None."""
        code = code.strip()
        if code in self.codes:
            return self.codes[code]
        return code if code in SECTORS[self.sector].event_types else None


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"partners.yaml: {where} is not a date (YYYY-MM-DD)") from None


def _partner(entry: dict[str, Any], index: int) -> Partner:
    where = f"partner #{index + 1}"
    try:
        pid, sector = str(entry["id"]), str(entry["sector"])
        agreement = entry["agreement"]
    except (KeyError, TypeError) as missing:
        raise InputError(f"partners.yaml: {where} lacks {missing}") from None
    if sector not in SECTORS:
        raise InputError(f"partners.yaml: {pid}: unknown sector {sector!r}")
    encoding = str(entry.get("encoding", "utf-8")).lower()
    if encoding not in ENCODINGS:
        raise InputError(f"partners.yaml: {pid}: encoding must be one of {', '.join(ENCODINGS)}")
    try:
        due_by = dt.time.fromisoformat(str(entry.get("due_by", "06:00")))
    except ValueError:
        raise InputError(f"partners.yaml: {pid}: due_by must be HH:MM") from None
    codes = {str(k): str(v) for k, v in (entry.get("codes") or {}).items()}
    unknown = sorted(set(codes.values()) - set(SECTORS[sector].event_types))
    if unknown:
        raise InputError(f"partners.yaml: {pid}: codes map to unknown event types {unknown}")
    return Partner(
        id=pid,
        name=str(entry.get("name", pid)),
        sector=sector,
        encoding=encoding,
        due_by=due_by,
        agreement_ref=str(agreement.get("ref", "")),
        valid_from=_date(agreement.get("valid_from"), f"{pid}.agreement.valid_from"),
        valid_to=_date(agreement.get("valid_to"), f"{pid}.agreement.valid_to"),
        codes=codes,
    )


def load_registry(path: Path) -> dict[str, Partner]:
    """Read partners.yaml into partners keyed by id; a malformed file is a clear InputError."""
    entries = load_yaml(path, missing_hint=INIT_HINT).get("partners")
    if not isinstance(entries, list):
        raise InputError("partners.yaml: expected a 'partners:' list")
    partners = [_partner(entry, i) for i, entry in enumerate(entries)]
    return {p.id: p for p in partners}
