"""Expectations every sector shares: the pseudonymised shape and no identifier-like values."""

from __future__ import annotations

from typing import Any

from connectors.sectors import SECTORS
from identity.pseudonym import PSEUDONYM_RE
from warehouse.load import SIGNAL_COLUMNS

# `resident` is held to the exact pseudonym shape instead, which no identifier can take.
TEXT_COLUMNS = ("partner_id", "event_type", "consent_id", "unit")
# Shapes of personal identifiers that must never survive pseudonymisation.
IDENTIFIER_REGEXES = (
    r"[ァ-ヶｦ-ﾟぁ-ゖ]{2,}",  # kana names
    r"(?<![0-9A-Za-z])0\d{1,4}[-(（)）‐－ー]\d{1,4}[-)）‐－ー]?\d{4}(?!\d)",  # phone numbers
    r"(?<![0-9A-Za-z])0\d{9,10}(?![0-9A-Za-z])",  # phone numbers without separators
    r"(?:18|19|20)\d{2}[-/年]\d{1,2}[-/月]\d{1,2}",  # dates of birth
    r"^[MTSHRmtshr明大昭平令]\D{0,2}\d{1,2}[./年]",  # era dates
    r"\d+丁目|\d+番地?|\d+号",  # addresses
)

# One alternation instead of a list: GX scans a column once per regex, and a day of readings is millions.
IDENTIFIER_PATTERN = "|".join(f"(?:{regex})" for regex in IDENTIFIER_REGEXES)


def shared(gxe: Any, sector: str) -> list[Any]:
    """Expectations that hold for every sector's pseudonymised frame."""
    found = [gxe.ExpectTableColumnsToMatchSet(column_set=list(SIGNAL_COLUMNS), exact_match=True)]
    found += [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in ("resident", "event_type", "event_start")]
    found.append(gxe.ExpectColumnValuesToMatchRegex(column="resident", regex=PSEUDONYM_RE.pattern))
    found.append(gxe.ExpectColumnValuesToBeInSet(column="sector", value_set=[sector]))
    found += [
        gxe.ExpectColumnValuesToNotMatchRegexList(column=c, regex_list=[IDENTIFIER_PATTERN])
        for c in TEXT_COLUMNS
    ]
    return found


def events_only(gxe: Any, sector: str) -> list[Any]:
    """Expectations of a sector that sends events and never measurements: its codes, no values."""
    return [
        *shared(gxe, sector),
        gxe.ExpectColumnValuesToBeInSet(column="kind", value_set=["event"]),
        gxe.ExpectColumnValuesToBeInSet(column="event_type", value_set=sorted(SECTORS[sector].event_types)),
        gxe.ExpectColumnValuesToBeNull(column="value"),
    ]
