"""Clinic sector: attendance events only, never diagnoses or medication."""

from __future__ import annotations

from typing import Any

from connectors.sectors import SECTORS
from expectations.common import shared


def expectations(gxe: Any) -> list[Any]:
    """The clinic suite: shared shape plus the canonical event codes."""
    return [
        *shared(gxe, "clinic"),
        gxe.ExpectColumnValuesToBeInSet(column="kind", value_set=["event"]),
        gxe.ExpectColumnValuesToBeInSet(column="event_type", value_set=sorted(SECTORS["clinic"].event_types)),
        gxe.ExpectColumnValuesToBeNull(column="value"),
    ]
