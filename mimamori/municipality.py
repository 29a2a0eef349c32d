"""The municipality a data home serves: its prefecture, city and outreach districts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from warehouse.errors import InputError
from warehouse.yamlfile import INIT_HINT, load_yaml


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
    data = load_yaml(path, missing_hint=INIT_HINT)
    try:
        return Municipality(
            code=str(data["code"]),
            prefecture=str(data["prefecture"]),
            city=str(data["city"]),
            districts={str(k): str(v) for k, v in (data.get("districts") or {}).items()},
            contacts={str(k): str(v) for k, v in (data.get("contacts") or {}).items()},
        )
    except (KeyError, TypeError, AttributeError):
        raise InputError(f"{path.name}: expected code, prefecture, city and districts") from None
