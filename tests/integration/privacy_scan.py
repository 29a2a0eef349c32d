"""Every identifier of a town's residents, and a scan of any text for them (shared by the privacy tests)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from identity.register import newest_extract, read_extract


def identifiers(home: Path, day: dt.date = dt.date(2026, 11, 4)) -> dict[str, set[str]]:
    """Every identifier of every resident of the town, per resident id (spaces removed)."""
    path = newest_extract(home / "register", day)
    assert path is not None, "the town has no register extract"
    found = {}
    for r in read_extract(path).itertuples():
        values = {
            r.resident_id,
            r.name_kana.replace("\u3000", ""),
            r.name_kanji.replace("\u3000", ""),
            r.address.split("\u3000")[0],
            re.sub(r"\D", "", r.phone),
        }
        if r.birth_date < "2000":
            values.add(r.birth_date)
        found[r.resident_id] = {v for v in values if len(v) >= 4}
    return found


def leaked(text: str, people: dict[str, set[str]]) -> list[str]:
    """Resident ids any of whose identifiers appear in the text."""
    text = text.replace("\u3000", "")
    return sorted({rid for rid, values in people.items() for v in values if v in text})


def validation_text(home: Path) -> str:
    """Everything Great Expectations kept in the data home: suites, results and Data Docs."""
    files = [p for p in (home / "gx").rglob("*") if p.is_file() and p.suffix in (".json", ".html", ".yml")]
    return "\n".join(p.read_text(errors="replace") for p in files)
