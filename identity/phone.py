"""Phone number normalisation to a bare domestic digit string."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalise_phone"]

_COUNTRY_PREFIX = re.compile(r"^\s*\+\s*81")
_NON_DIGITS = re.compile(r"[^0-9]")


def normalise_phone(s: str | None) -> str:
    """Return the number as ASCII digits only, with +81 rewritten to the domestic leading 0."""
    if not s:
        return ""
    text = unicodedata.normalize("NFKC", s)
    international = _COUNTRY_PREFIX.match(text)
    digits = _NON_DIGITS.sub("", text[international.end() :] if international else text)
    if international and digits and not digits.startswith("0"):
        digits = "0" + digits
    return digits
