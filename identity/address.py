"""Address normalisation into town, canonical ``c-b-g`` block and building."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["Address", "normalise_address"]

MAX_BLOCK_PARTS = 3

_KANJI_DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}

# Every dash partners type between block numbers (after NFKC); the katakana long
# mark ー only ever reaches the block grammar between two numbers.
_DASHES = "-‐‑‒–—―−ー"
_DASH = f"[{re.escape(_DASHES)}]"

_NUMBER = re.compile(rf"\d+|[{''.join(_KANJI_DIGITS)}{''.join(_KANJI_UNITS)}]+")
# A block marker: an optional unit word, then an optional の or dash.
_MARKER = re.compile(rf"(?P<unit>丁目|番地|番|号)?(?P<joint>\s*(?:の|{_DASH}))?")
# A number followed by one of these is a room, floor or wing, not a block part.
_ROOM_SUFFIX = re.compile(r"号室|号棟|号館|室|階|棟|館|[Ff](?![A-Za-z])")
# A "block" followed by one of these is part of a town name (一番町, 北1条, 十日町).
_TOWN_SUFFIXES = frozenset("町丁条通村区市郡街線")
# Unit words after which a space may come before the next number (1丁目 2番 3号).
_SPACED_UNITS = frozenset({"丁目", "番", "番地"})
_POSTCODE = re.compile(rf"^〒?\s*\d{{3}}{_DASH}?\d{{4}}\s+|^〒\s*\d{{3}}{_DASH}?\d{{4}}")
_LEADING_SEPARATORS = re.compile(rf"^[\s{re.escape(_DASHES)}、,]+")
_TOWN_FOLDS = str.maketrans({"ヶ": "ケ", "ヵ": "ケ"})


@dataclass(frozen=True)
class Address:
    """An address below the city: town name, canonical block (``c-b-g``) and building/room text."""

    town: str
    block: str
    building: str

    @property
    def key(self) -> str:
        """Return the matching key ``"<town> <block>"``."""
        return f"{self.town} {self.block}"


def _number_value(raw: str) -> int:
    """Convert ASCII digits or a kanji numeral (二十三, 百五, 一〇五) to an int."""
    if raw.isdigit():
        return int(raw)
    if not any(ch in _KANJI_UNITS for ch in raw):
        return int("".join(str(_KANJI_DIGITS[ch]) for ch in raw))
    total, current = 0, 0
    for ch in raw:
        if ch in _KANJI_UNITS:
            total += (current or 1) * _KANJI_UNITS[ch]
            current = 0
        else:
            current = current * 10 + _KANJI_DIGITS[ch]
    return total + current


def _number_at(text: str, pos: int) -> re.Match[str] | None:
    """Match a block number at ``pos`` unless it is a room/floor number."""
    match = _NUMBER.match(text, pos)
    if match is None or _ROOM_SUFFIX.match(text, match.end()):
        return None
    return match


def _parse_block(text: str, start: int) -> tuple[list[int], int] | None:
    """Parse a block starting at ``start``; return its numbers and end, or None if none starts there."""
    parts: list[int] = []
    pos = start
    has_chome = False
    while True:
        number = _number_at(text, pos)
        if number is None:
            break
        arabic = number[0].isdigit()
        marker = _MARKER.match(text, number.end())
        assert marker is not None  # every group is optional
        unit, joint = marker["unit"], marker["joint"]
        if unit == "丁目" and parts:
            return None  # 丁目 comes first: the numerals before it belong to the town
        after_unit = number.end() + len(unit or "")
        following = None
        if joint is not None:
            following = _number_at(text, marker.end())
        elif unit in _SPACED_UNITS:
            rest = text[after_unit:]
            following = _number_at(text, after_unit + len(rest) - len(rest.lstrip()))
            if following and unit != "丁目" and not has_chome and following[0].isdigit() != arabic:
                return None  # 麻布十番1-2-3: a kanji 番 right before Arabic digits names the town
        if not parts and not arabic and unit is None and following is None:
            break  # a bare kanji numeral (三田, 六本木) does not start a block
        parts.append(_number_value(number[0]))
        has_chome = has_chome or unit == "丁目"
        pos = after_unit
        if following is None or len(parts) == MAX_BLOCK_PARTS:
            break
        pos = following.start()
    # A lone number before 町/条/市... names a town (一番町, 北1条); a full c-b-g block never does.
    if not parts or (len(parts) == 1 and pos < len(text) and text[pos] in _TOWN_SUFFIXES):
        return None
    return parts, pos


def _strip_prefix(text: str, prefix: str) -> str:
    """Remove ``prefix`` from the start of ``text``, ignoring whitespace in ``text``."""
    pos = 0
    for ch in prefix:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text) or text[pos] != ch:
            return text
        pos += 1
    return text[pos:]


def _find_block(text: str) -> tuple[int, list[int], int] | None:
    """Return (start, numbers, end) of the first block in ``text``."""
    for start in range(len(text)):
        if start > 0 and _NUMBER.match(text[start - 1]):
            continue  # only try the start of a numeral run
        parsed = _parse_block(text, start)
        if parsed is not None:
            return start, parsed[0], parsed[1]
    return None


def _clean(s: str) -> str:
    """NFKC with whitespace runs collapsed to one ASCII space and ends stripped."""
    return " ".join(unicodedata.normalize("NFKC", s).split())


def normalise_address(s: str | None, *, prefecture: str = "", city: str = "") -> Address:
    """Split an address into town, canonical ``c-b-g`` block and trailing building text.

    The given prefecture and city are removed when the address starts with them;
    kanji numerals and dash forms are converted only inside the block, so town
    names such as 三田町 or 一番町 stay intact.  Blocks have at most three parts
    (``1-2-3-405`` gives block ``1-2-3`` and building ``405``); no block gives
    block ``""``.  In the town, ヶ/ヵ are written ケ (霞ヶ関 → 霞ケ関).
    """
    text = _POSTCODE.sub("", _clean(s or ""))
    for prefix in (prefecture, city):
        normalised = "".join(_clean(prefix).split())
        if normalised:
            text = _strip_prefix(text, normalised).lstrip()
    found = _find_block(text)
    if found is None:
        return Address("".join(text.split()).translate(_TOWN_FOLDS), "", "")
    start, parts, end = found
    town = "".join(text[:start].split()).translate(_TOWN_FOLDS)
    building = _LEADING_SEPARATORS.sub("", text[end:])
    return Address(town, "-".join(str(part) for part in parts), building)
