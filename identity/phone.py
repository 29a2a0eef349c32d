"""Phone numbers: bare domestic digits, and the checked numbers of a field that may be used to link."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberType

from identity.errors import InvalidIdentifier

__all__ = ["normalise_phone", "phone_numbers"]

FIELD = "phone"
REASON_EMPTY = "empty value"
REASON_INVALID = "not a Japanese number of a valid length"
REASON_SHARED = "shared service number"

# Numbers many callers share (0120, 0800, 0570, 0990...): they say nothing about who a customer is.
SHARED_TYPES = frozenset(
    {
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.SHARED_COST,
        PhoneNumberType.PREMIUM_RATE,
        PhoneNumberType.UAN,
    }
)
_COUNTRY_PREFIX = re.compile(r"^\s*\+\s*81")
_NON_DIGITS = re.compile(r"[^0-9]")
_EXTENSION = re.compile(r"(?:内線|ナイセン|内|ext\.?|EXT\.?|x|X)\s*[(]?\d{1,5}[)]?")
# Between two numbers in one field: a slash, comma, 、, ・, 又は/または/or, or a run of spaces.
_BETWEEN = re.compile(r"[/,、;・]|又は|または|\bor\b|\s{2,}")
_DIGIT_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−ー", "-"))


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


@lru_cache(maxsize=4096)
def _checked(digits: str) -> tuple[str, bool] | None:
    """The domestic form of a valid Japanese number (with or without its country code), and if shared."""
    for prefix in ("0", "0081", "81"):
        if not digits.startswith(prefix):
            continue
        national = digits[len(prefix) :].removeprefix("0") if prefix != "0" else digits[1:]
        if not national.isdigit() or national.startswith("0"):
            continue
        kind = phonenumbers.number_type(PhoneNumber(country_code=81, national_number=int(national)))
        if kind != PhoneNumberType.UNKNOWN:
            return "0" + national, kind in SHARED_TYPES
    return None


def _pieces(chunk: str) -> list[str]:
    """Digit strings of the numbers in one chunk; spaces split two numbers only when both are valid."""
    digits = normalise_phone(chunk)
    if _checked(digits) or " " not in chunk.strip():
        return [digits]
    groups = [normalise_phone(g) for g in chunk.split()]
    for cut in range(1, len(groups)):
        left, right = "".join(groups[:cut]), "".join(groups[cut:])
        if _checked(left) and _checked(right):
            return [left, right]
    return [digits]


def phone_numbers(s: str | None) -> tuple[str, ...]:
    """The valid, personal numbers of a phone field (several when a field holds two), in order.

    Extensions (内線 123) are dropped, ``+81``/``0081``/``81`` become the domestic 0, lengths are
    checked against Japan's numbering plan (``phonenumbers``); shared service numbers (0120, 0570...)
    are never a match key.  Raises :class:`InvalidIdentifier` for ``phone`` (reason only) when no
    number is usable.
    """
    text = unicodedata.normalize("NFKC", s or "").translate(_DIGIT_DASHES)
    text = _EXTENSION.sub(" ", text)
    chunks = [c for c in _BETWEEN.split(text) if c and c.strip()]
    if not chunks:
        raise InvalidIdentifier(FIELD, REASON_EMPTY)
    found: list[str] = []
    shared = False
    for digits in (d for chunk in chunks for d in _pieces(chunk)):
        checked = _checked(digits)
        if checked is None:
            continue
        number, is_shared = checked
        shared = shared or is_shared
        if not is_shared and number not in found:
            found.append(number)
    if not found:
        raise InvalidIdentifier(FIELD, REASON_SHARED if shared else REASON_INVALID)
    return tuple(found)
