"""Clinic sector: attendance events only, never diagnoses or medication."""

from __future__ import annotations

from typing import Any

from expectations.common import events_only


def expectations(gxe: Any) -> list[Any]:
    """The clinic suite: the shared pseudonymous shape, the canonical clinic codes, no values."""
    return events_only(gxe, "clinic")
