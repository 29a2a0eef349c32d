"""Insurer sector (life, medical, non-life): events only; no claim amounts or diagnoses."""

from __future__ import annotations

from typing import Any

from expectations.common import events_only


def expectations(gxe: Any) -> list[Any]:
    """The insurer suite: the shared pseudonymous shape, the canonical insurer codes, no values."""
    return events_only(gxe, "insurer")
