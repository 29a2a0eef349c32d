"""Place names for comparison: the municipality's own name in its spellings, and town-name readings."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

__all__ = ["fold_place", "strip_municipality", "town_readings"]

# ヶ, ヵ, ケ and が between two kanji are one sound in place names (霞ヶ関, 霞が関, 霞ケ関); の and ノ too.
_SMALL_KE = re.compile(r"(?<=[\u3400-\u9fff々])[ヶヵケが](?=[\u3400-\u9fff々])")
_NO = re.compile(r"(?<=[\u3400-\u9fff々])[のノ](?=[\u3400-\u9fff々])")
_PREFECTURE_SUFFIX = re.compile(r"(?<=..)[都府県]$")
_GUN = re.compile(r"^(?P<gun>.+?郡)?(?P<core>.+)$")
_WARD = re.compile(r"^(?P<core>.+?市)(?P<ward>.+区)$")
# A 郡 or a 政令市 ward the municipality file does not name.
_ANY_GUN = re.compile(r"^[\u3400-\u9fff]{1,4}郡")
_ANY_WARD = re.compile(r"^[\u3400-\u9fff]{1,3}区")
# Words that mark an administrative division inside the town, not a place of their own.
_OAZA = re.compile(r"大字|(?:^|(?<=[町村]))字(?=[\u3400-\u9fff])")
_KOAZA = re.compile(r"(?<=[\u3400-\u9fff])字(?=[\u3400-\u9fff])")
_KANJI_NUMERAL = "〇一二三四五六七八九十百千"
# 第 before a numbered 地割 is often left out (第6地割, 6地割).
_DAI = re.compile(r"第(?=\d+地割)")
# A Kyoto street description before the town (寺町通御池上る): many partners leave it out, but it is
# what tells apart towns of the same name in one ward, so the reading without it is only a second one.
_KYOTO_STREET = re.compile(r"^.+?(?:上る|下る|上ル|下ル|東入る|西入る|東入ル|西入ル|東入|西入)(?=.)")
# A numeral that numbers a town (北二十四条, 七番町, 第二地割, 十四号) is written in digits in the key.
_TOWN_NUMBER = re.compile(rf"[{_KANJI_NUMERAL}]+(?=条|線|号|地割|番町|番丁)")
_DIGITS = dict(zip("〇一二三四五六七八九", range(10), strict=True))
_UNITS = {"十": 10, "百": 100, "千": 1000}


def kanji_number(raw: str) -> int:
    """Value of a kanji numeral: positional (一〇五) or with units (二十三, 千二百三十四)."""
    if not any(ch in _UNITS for ch in raw):
        return int("".join(str(_DIGITS[ch]) for ch in raw))
    total, current = 0, 0
    for ch in raw:
        if ch in _UNITS:
            total += (current or 1) * _UNITS[ch]
            current = 0
        else:
            current = current * 10 + _DIGITS[ch]
    return total + current


def fold_place(text: str) -> str:
    """One spelling of the kana joints of place names (霞ヶ関 → 霞ケ関, 一の瀬 → 一ノ瀬)."""
    return _NO.sub("ノ", _SMALL_KE.sub("ケ", text))


@cache
def _prefixes(prefecture: str, city: str) -> tuple[str, ...]:
    """Every spelling of "<prefecture><郡><city><ward>" with each part optional, longest first."""
    prefecture, city = fold_place(prefecture), fold_place(city)
    prefectures = {prefecture, _PREFECTURE_SUFFIX.sub("", prefecture), ""}
    split = _GUN.match(city)
    gun, core = (split["gun"] or "", split["core"]) if split else ("", "")
    ward_split = _WARD.match(core)
    core, ward = (ward_split["core"], ward_split["ward"]) if ward_split else (core, "")
    found = {p + g + c + w for p in prefectures for g in {gun, ""} for c in {core, ""} for w in {ward, ""}}
    return tuple(sorted(found - {""}, key=len, reverse=True))


def _prefix_end(text: str, prefix: str, pos: int = 0) -> int | None:
    """Where ``prefix`` ends in ``text`` from ``pos`` (whitespace in ``text`` ignored), or None."""
    for ch in prefix:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text) or text[pos] != ch:
            return None
        pos += 1
    return pos


def strip_municipality(text: str, prefecture: str, city: str) -> str:
    """Remove the municipality's own name however it is spelt (県, 郡 or ward left out, ヶ/ケ/が).

    ``text``, ``prefecture`` and ``city`` must already be NFKC with kanji variants folded.
    """
    prefixes = _prefixes(prefecture, city)
    if not prefixes:
        return text
    folded = fold_place(text)
    city_is_ward = _WARD.match(fold_place(city)) is not None
    for start in _starts(folded, prefecture):
        for prefix in prefixes:
            end = _prefix_end(folded, prefix, start)
            if end is None:
                continue
            if not city_is_ward and prefix.endswith("市"):  # a 政令市 ward the file does not name
                ward = _ANY_WARD.match(folded[end:].lstrip())
                end = end + len(folded[end:]) - len(folded[end:].lstrip()) + (ward.end() if ward else 0)
            return text[end:].lstrip()
    return text


def _starts(folded: str, prefecture: str) -> Iterator[int]:
    """Where the municipality's name may start: the beginning, then after a 郡 the file leaves out."""
    yield 0
    yield from _after_gun(folded, prefecture)


def _after_gun(folded: str, prefecture: str) -> list[int]:
    """Where an unnamed 郡 after the prefecture ends, for a city file that leaves it out."""
    head = fold_place(prefecture)
    for prefix in (head, _PREFECTURE_SUFFIX.sub("", head), ""):
        end = _prefix_end(folded, prefix)
        if end is not None:
            gun = _ANY_GUN.match(folded[end:].lstrip())
            if gun:
                return [end + len(folded[end:]) - len(folded[end:].lstrip()) + gun.end()]
    return []


def town_readings(town: str) -> tuple[str, ...]:
    """Comparison forms of a town name, the written one first.

    大字/字 are dropped, a numeral that numbers the town is written in digits (第 before 地割 dropped),
    and where only a dictionary could decide, both readings are kept, not guessed between: a town
    written ``N番丁`` may be the ``N番町`` another party writes, and a Kyoto street description
    (寺町通御池上る) may be left out by another.
    """
    key = fold_place(town)
    if _OAZA.search(key):  # after 大字 (or a leading 字), a later 字 marks a 小字 too: 大字岡津字北
        key = _KOAZA.sub("", _OAZA.sub("", key))
    key = _DAI.sub("", _TOWN_NUMBER.sub(lambda m: str(kanji_number(m[0])), key))
    readings = [key]
    if "番丁" in key:
        readings.append(key.replace("番丁", "番町"))
    street = _KYOTO_STREET.match(key)
    if street:
        readings.append(key[street.end() :])
    return tuple(readings)
