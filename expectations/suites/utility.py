"""Utility sector (electricity, gas, water): readings within range, billing events."""

from __future__ import annotations

from typing import Any

from connectors.sectors import SECTORS, UTILITIES
from expectations.common import shared

# A whole day of one household's use above these is not a household (kWh / m3).
DAILY_MAX = {"kWh": 300.0, "m3": 50.0}


def expectations(gxe: Any) -> list[Any]:
    """The utility suite: readings are non-negative, bounded and carry a unit; billing codes are known."""
    codes = sorted(SECTORS["utility"].event_types | UTILITIES)
    return [
        *shared(gxe, "utility"),
        gxe.ExpectColumnValuesToBeInSet(column="kind", value_set=["reading", "event"]),
        gxe.ExpectColumnValuesToBeInSet(column="event_type", value_set=codes),
        gxe.ExpectColumnValuesToBeBetween(column="value", min_value=0, max_value=max(DAILY_MAX.values())),
        gxe.ExpectColumnValuesToBeInSet(column="unit", value_set=sorted(DAILY_MAX), mostly=1.0),
    ]
