"""Delivery sector (parcels, co-op, meals, newspapers): events only."""

from __future__ import annotations

from typing import Any

from expectations.common import events_only


def expectations(gxe: Any) -> list[Any]:
    """The delivery suite: the shared pseudonymous shape, the canonical delivery codes, no values."""
    return events_only(gxe, "delivery")
