"""Birth date parsing for the Western and Japanese-era forms partners send."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from identity.errors import InvalidIdentifier
from identity.placename import kanji_number

__all__ = ["ERAS", "Era", "parse_birth_date"]

FIELD = "birth_date"

REASON_EMPTY = "empty value"
REASON_FORMAT = "unrecognised format"
REASON_IMPOSSIBLE = "impossible date"
REASON_ERA_RANGE = "outside era range"
REASON_TOO_EARLY = "before 1868"
REASON_FUTURE = "in the future"

EARLIEST = date(1868, 1, 1)


@dataclass(frozen=True)
class Era:
    """A Japanese era: its names, first day and last day (inclusive, None while current)."""

    name: str
    letter: str
    first_day: date
    last_day: date | None


# On a demise the new era began the same day, so 1912-07-30 and 1926-12-25
# belong to both neighbouring eras; from Heisei on, eras change at midnight.
ERAS: tuple[Era, ...] = (
    Era("明治", "M", date(1868, 1, 25), date(1912, 7, 30)),
    Era("大正", "T", date(1912, 7, 30), date(1926, 12, 25)),
    Era("昭和", "S", date(1926, 12, 25), date(1989, 1, 7)),
    Era("平成", "H", date(1989, 1, 8), date(2019, 4, 30)),
    Era("令和", "R", date(2019, 5, 1), None),
)
# The legacy era codes of older systems (1 明治 ... 5 令和), written before a compact YYMMDD.
_ERA_BY_TOKEN = {
    token: era
    for code, era in enumerate(ERAS, start=1)
    for token in (era.name, era.name[0], era.letter, str(code))
}

_ERA_TOKENS = "|".join(re.escape(t) for t in sorted(_ERA_BY_TOKEN, key=len, reverse=True) if not t.isdigit())
_ERA_RE = re.compile(
    rf"(?P<era>{_ERA_TOKENS})\.?(?P<y>元|\d{{1,2}})(?:年|[./-])(?P<m>\d{{1,2}})(?:月|[./-])(?P<d>\d{{1,2}})日?"
)
# S200101 and the legacy code form 3200101: era letter or code, then YYMMDD.
_COMPACT_ERA_RE = re.compile(r"(?P<era>[MTSHR1-5])(?P<y>\d{2})(?P<m>\d{2})(?P<d>\d{2})")
# What may follow a date and is not part of it: 生/生まれ, a weekday (月), or a time (T00:00:00Z).
_TRAILER = re.compile(
    r"\s*(?:生まれ|生|\([月火水木金土日]\)|(?:T|\s)\s*\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)$"
)
_KANJI_NUMBER = re.compile("[〇一二三四五六七八九十]+")
_WESTERN_RES = (
    re.compile(r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日?"),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
)

# Dash look-alikes that NFKC leaves alone.
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−ー", "-"))


def _make_date(year: int, month: int, day: int) -> date:
    """Build a date or raise ``impossible date``."""
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidIdentifier(FIELD, REASON_IMPOSSIBLE) from None


def _parse_era(match: re.Match[str]) -> date:
    """Convert a matched era date, checking it falls inside its era."""
    era = _ERA_BY_TOKEN[match["era"]]
    era_year = 1 if match["y"] == "元" else int(match["y"])
    if era_year == 0:
        raise InvalidIdentifier(FIELD, REASON_IMPOSSIBLE)
    parsed = _make_date(era.first_day.year + era_year - 1, int(match["m"]), int(match["d"]))
    if parsed < era.first_day or (era.last_day is not None and parsed > era.last_day):
        raise InvalidIdentifier(FIELD, REASON_ERA_RANGE)
    return parsed


def _parse(text: str) -> date:
    """Parse a cleaned date string in any supported form."""
    text = _KANJI_NUMBER.sub(lambda m: str(kanji_number(m[0])), text)
    era_match = _ERA_RE.fullmatch(text.upper()) or _COMPACT_ERA_RE.fullmatch(text.upper())
    if era_match:
        return _parse_era(era_match)
    for pattern in _WESTERN_RES:
        match = pattern.fullmatch(text)
        if match:
            return _make_date(int(match["y"]), int(match["m"]), int(match["d"]))
    raise InvalidIdentifier(FIELD, REASON_FORMAT)


def parse_birth_date(s: str | None, today: date | None = None) -> date:
    """Parse a birth date written in ISO, slash, compact or Japanese-era form.

    Accepted: ``1945-03-02``, ``1945/3/2``, ``1945.3.2``, ``19450302``,
    ``1945年3月2日``, ``昭和20年3月2日`` (``元年`` for year 1), ``S20.3.2``,
    ``s20/3/2``, ``S.20.3.2``, ``昭20/3/2``, ``S200302``, the legacy era-code form ``3200302``
    (1 明治 ... 5 令和), kanji numerals (``昭和二十年三月二日``); era letters M/T/S/H/R, names
    明治/大正/昭和/平成/令和 or their first kanji (also the squared ㍼-style signs); a trailing
    生/生まれ, weekday or time of day (``1945-03-02T00:00:00``, ``1945/3/2 0:00:00``) is ignored;
    full-width characters anywhere.
    Raises :class:`InvalidIdentifier` for ``birth_date`` with a reason (never the
    value) when the text is unrecognised, the date impossible, outside its era,
    before 1868 or after ``today`` (the current date when not given).
    """
    spaced = unicodedata.normalize("NFKC", s or "").translate(_DASHES).strip()
    text = "".join(_TRAILER.sub("", spaced).split())
    if not text:
        raise InvalidIdentifier(FIELD, REASON_EMPTY)
    parsed = _parse(text)
    if parsed < EARLIEST:
        raise InvalidIdentifier(FIELD, REASON_TOO_EARLY)
    if parsed > (today or date.today()):
        raise InvalidIdentifier(FIELD, REASON_FUTURE)
    return parsed
