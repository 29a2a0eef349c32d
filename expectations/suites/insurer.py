"""Insurer sector (life, medical, non-life): events only."""

from __future__ import annotations

from typing import Any

from connectors.sectors import SECTORS
from expectations.common import shared


def expectations(gxe: Any) -> list[Any]:
    """The insurer suite: shared shape plus the canonical event codes."""
    return [
        *shared(gxe, "insurer"),
        gxe.ExpectColumnValuesToBeInSet(column="kind", value_set=["event"]),
        gxe.ExpectColumnValuesToBeInSet(
            column="event_type", value_set=sorted(SECTORS["insurer"].event_types)
        ),
        gxe.ExpectColumnValuesToBeNull(column="value"),
    ]
