"""Address normalisation into town, canonical ``c-b-g`` block and building, with comparison keys."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from identity.placename import kanji_number, strip_municipality, town_readings
from identity.variants import fold_variants

__all__ = ["Address", "normalise_address"]

# Four parts: 丁目-番-号 and a room or a sub-lot written as a fourth hyphenated number.
MAX_BLOCK_PARTS = 4
# A third part this large after a two-part lot is a room number (本町198-11-405), not a 号.
ROOM_FROM = 100

_KANJI_NUMERALS = "〇零一二三四五六七八九十百千"
# Every dash partners type between block numbers (after NFKC); the katakana long
# mark ー only ever reaches the block grammar between two numbers.
_DASHES = "-‐‑‒–—―−ー"
_DASH = f"[{re.escape(_DASHES)}]"

_NUMBER = re.compile(rf"\d+|[{_KANJI_NUMERALS}]+")
# A lot may carry a letter or kana before its number (14-イ22, 14イ22, 3-A5).
_LETTERED = re.compile(r"[A-Za-zァ-ヺ](?=\d)")
# A block marker: an optional unit word, then an optional の or dash.  丁 alone is 丁目 before a number.
_MARKER = re.compile(
    rf"(?P<unit>丁目|丁(?=\s*[\d{_KANJI_NUMERALS}])|番地|番|号)?(?P<joint>\s*(?:の|ノ|{_DASH}))?"
)
# A number followed by one of these is a room, floor or wing, not a block part.
_ROOM_SUFFIX = re.compile(r"号室|号棟|号館|室|階|棟|館|[Ff](?![A-Za-z])")
# A "block" followed by one of these is part of a town name (一番町, 北1条, 十日町, 第1地割).
_TOWN_SUFFIXES = frozenset("町丁条通村区市郡街線")
_TOWN_WORDS = ("地割",)
# Text between a lone number and the next block that shows the number named the town (14号北, 5ノ町).
_TOWN_TAIL = re.compile(r"[\u3400-\u9fff々ノケ]{1,2}")
# Unit words after which a space may come before the next number (1丁目 2番 3号).
_SPACED_UNITS = frozenset({"丁目", "丁", "番", "番地"})
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
        """The matching key ``"<town> <block>"`` as written (town in its comparison form)."""
        return self.keys[0]

    @property
    def keys(self) -> tuple[str, ...]:
        """Every reading of the address, the written one first.

        A fourth block part, or a large third part after a two-part lot, may be a room: the reading
        without it is kept beside the written one.  Readings never drop a part that could be a lot
        number of its own, so two places that differ in a lot never share the written reading.
        """
        parts = self.block.split("-") if self.block else []
        blocks = [self.block]
        if len(parts) == MAX_BLOCK_PARTS:
            blocks.append("-".join(parts[:3]))
        elif len(parts) == 3 and parts[2].isdigit() and int(parts[2]) >= ROOM_FROM:
            blocks.append("-".join(parts[:2]))
        return tuple(f"{town} {block}" for block in blocks for town in town_readings(self.town))


def _number_value(raw: str) -> int:
    """Convert ASCII digits or a kanji numeral (二十三, 百五, 一〇五) to an int."""
    return int(raw) if raw.isdigit() else kanji_number(raw.replace("零", "〇"))


def _number_at(text: str, pos: int, lettered: bool = False) -> re.Match[str] | None:
    """Match a block number at ``pos`` (after a joint, a letter may lead it) unless it is a room number."""
    if lettered and _LETTERED.match(text, pos):
        pos += 1
    match = _NUMBER.match(text, pos)
    if match is None or _ROOM_SUFFIX.match(text, match.end()):
        return None
    return match


def _part(text: str, number: re.Match[str], lettered: bool) -> str:
    """The canonical text of one block part: its value, after the letter that leads a later part."""
    letter = text[number.start() - 1] if lettered and _LETTERED.match(text, number.start() - 1) else ""
    return letter + str(_number_value(number[0]))


def _names_town(text: str, pos: int) -> bool:
    """Whether the text at ``pos`` shows that the number before it named the town (町, 条, 地割...)."""
    return pos < len(text) and (text[pos] in _TOWN_SUFFIXES or text.startswith(_TOWN_WORDS, pos))


def _parse_block(text: str, start: int) -> tuple[list[str], int] | None:
    """Parse a block starting at ``start``; return its parts and end, or None if none starts there."""
    parts: list[str] = []
    pos = start
    has_chome = False
    number = _number_at(text, pos)
    while number is not None:
        arabic = number[0].isdigit()
        marker = _MARKER.match(text, number.end())
        assert marker is not None  # every group is optional
        unit, joint = marker["unit"], marker["joint"]
        if unit in ("丁目", "丁") and parts:
            return None  # 丁目 comes first: the numerals before it belong to the town
        after_unit = number.end() + len(unit or "")
        following = None
        if joint is not None:
            following = _number_at(text, marker.end(), lettered=True)
        elif unit is None and _LETTERED.match(text, number.end()):
            following = _number_at(text, number.end(), lettered=True)  # 14イ22: the kana leads a part
        elif unit in _SPACED_UNITS:
            rest = text[after_unit:]
            following = _number_at(text, after_unit + len(rest) - len(rest.lstrip()))
            if following and unit == "番" and not has_chome and following[0].isdigit() != arabic:
                return None  # 麻布十番1-2-3: a kanji 番 right before Arabic digits names the town
        at_end = after_unit >= len(text) or text[after_unit].isspace()
        if not parts and not arabic and unit is None and following is None and not at_end:
            break  # a bare kanji numeral inside a name (三田, 六本木) does not start a block
        parts.append(_part(text, number, lettered=bool(parts)))
        has_chome = has_chome or unit in ("丁目", "丁")
        pos = after_unit
        if following is None or len(parts) == MAX_BLOCK_PARTS:
            break
        number = following
    # A lone number before 町/条/地割... names a town (一番町, 北1条); a full c-b-g block never does.
    if not parts or (len(parts) == 1 and _names_town(text, pos)):
        return None
    return parts, pos


def _starts_run(text: str, start: int) -> bool:
    """Whether a numeral run starts here (a kanji just before digits does not hide them: 家六2094)."""
    if start == 0:
        return True
    before, here = text[start - 1], text[start]
    return not (_NUMBER.fullmatch(before) and before.isdigit() == here.isdigit())


def _find_block(text: str) -> tuple[int, list[str], int] | None:
    """Return (start, parts, end) of the block in ``text``.

    A lone number followed closely by another block named the town (14号北1番地, 第1地割12番地,
    5ノ町1-2): the later block is taken, so every address of such a town does not share one key.
    """
    found: tuple[int, list[str], int] | None = None
    for start in range(len(text)):
        if not _starts_run(text, start):
            continue
        parsed = _parse_block(text, start)
        if parsed is None:
            continue
        if found is not None and start > found[2] + 3:
            break
        found = (start, *parsed)
        tail = _TOWN_TAIL.match(text, parsed[1])
        lot = text.endswith(("番地", "丁目"), 0, parsed[1])  # 123番地荘2: a lot, then a building
        if len(parsed[0]) > 1 or lot or tail is None or not _NUMBER.match(text, tail.end()):
            break
    return found


def _clean(s: str) -> str:
    """NFKC, old kanji folded, whitespace runs collapsed to one ASCII space and ends stripped."""
    return " ".join(fold_variants(unicodedata.normalize("NFKC", s)).split())


@lru_cache(maxsize=64)
def _clean_name(name: str) -> str:
    """A prefecture or city name cleaned like addresses (the same few names, over and over)."""
    return _clean(name)


def normalise_address(s: str | None, *, prefecture: str = "", city: str = "") -> Address:
    """Split an address into town, canonical ``c-b-g`` block and trailing building text.

    The given prefecture and city are removed when the address starts with them, in any of their
    spellings (県, 郡 or a 政令市 ward left out, ヶ/ケ/が, 巿 for 市); kanji numerals and dash forms
    are converted only inside the block, so town names such as 三田町 or 一番町 stay intact.
    Blocks have at most four parts (``1-2-3-405``; see :attr:`Address.keys` for the readings
    without a room); no block gives block ``""``.  Old kanji are folded (澤 → 沢) and in the town
    ヶ/ヵ/が are written ケ (霞ヶ関 → 霞ケ関).
    """
    text = _POSTCODE.sub("", _clean(s or ""))
    text = strip_municipality(text, _clean_name(prefecture), _clean_name(city))
    found = _find_block(text)
    if found is None:
        return Address("".join(text.split()).translate(_TOWN_FOLDS), "", "")
    start, parts, end = found
    town = "".join(text[:start].split()).translate(_TOWN_FOLDS)
    building = _LEADING_SEPARATORS.sub("", text[end:])
    return Address(town, "-".join(parts), building)
