"""The municipality a data home serves: its prefecture, city and outreach districts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from warehouse.errors import InputError


@dataclass(frozen=True)
class Municipality:
    """Name, code, outreach districts (地域包括支援センター) and each district's emergency contact."""

    code: str
    prefecture: str
    city: str
    districts: dict[str, str]
    contacts: dict[str, str] = field(default_factory=dict)


def load_municipality(path: Path) -> Municipality:
    """Read municipality.yaml from the data home."""
    if not path.exists():
        raise InputError(f"municipality settings not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Municipality(
            code=str(data["code"]),
            prefecture=str(data["prefecture"]),
            city=str(data["city"]),
            districts={str(k): str(v) for k, v in (data.get("districts") or {}).items()},
            contacts={str(k): str(v) for k, v in (data.get("contacts") or {}).items()},
        )
    except (yaml.YAMLError, KeyError, TypeError, AttributeError):
        raise InputError(f"{path.name}: expected code, prefecture, city and districts") from None
