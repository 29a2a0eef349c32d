"""Judge published lists against the raw register, consent files and a synthetic town's ground truth.

Independent of the warehouse on purpose: it reads only the files a municipality would hand over
(register extracts, consent CSVs, partners.yaml, the published outbox JSON), so a bug in the
pipeline cannot hide itself here. The metrics live in mimamori_demo.eval_metrics.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from identity.register import age_on, newest_extract, read_extract
from warehouse.yamlfile import load_yaml

TIER_RANK = {"urgent": 0, "high": 1, "watch": 2}
PRIVACY_CHECKS = ("no_consent", "after_withdrawal", "out_of_scope", "not_eligible")


@dataclass(frozen=True)
class Scope:
    """What one consent in force allows: partners and sectors (None means every one)."""

    partners: frozenset[str] | None
    sectors: frozenset[str] | None

    @classmethod
    def parse(cls, partners: str, sectors: str) -> Scope:
        """A scope from the consent file's `*` or `a;b` columns."""

        def part(text: str) -> frozenset[str] | None:
            return None if text.strip() == "*" else frozenset(p for p in text.split(";") if p)

        return cls(part(partners), part(sectors))

    def covers(self, partner: str, sector: str) -> bool:
        """Whether a partner of a sector is inside this scope."""
        return (self.partners is None or partner in self.partners) and (
            self.sectors is None or sector in self.sectors
        )


@dataclass
class DayView:
    """What the raw files say about one run date: the published entries and who may be on them."""

    day: str
    entries: dict[str, dict[str, Any]]
    notices: list[dict[str, str]]
    watched: set[str]
    scopes: dict[str, list[Scope]] = field(default_factory=dict)
    withdrawn: set[str] = field(default_factory=set)


def published(home: Path, day: str) -> tuple[dict[str, dict[str, Any]], list[dict[str, str]]]:
    """resident_id -> entry, and the feed notices, of every district's published JSON list for a day."""
    found: dict[str, dict[str, Any]] = {}
    notices: dict[tuple[str, str], dict[str, str]] = {}
    for path in sorted((home / "outbox" / day).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for entry in data["entries"]:
            found[str(entry["resident_id"])] = entry
        for notice in data.get("notices", []):
            notices[(notice["partner_id"], notice["status"])] = notice
    return found, list(notices.values())


def listed(home: Path, day: str) -> dict[str, dict[str, Any]]:
    """resident_id -> entry of every district's published JSON list for a day."""
    return published(home, day)[0]


def consent_copies(home: Path) -> Path:
    """Where a synthetic town keeps copies of its consent forms, beside its truth outside the home."""
    return home.parent / f"{home.name}.consents"


def _latest_consents(home: Path, day: dt.date) -> list[dict[str, str]]:
    """The newest row of every consent in the consent files dated up to the day."""
    latest: dict[str, dict[str, str]] = {}
    copies = consent_copies(home)  # the home's forms are sealed away once imported
    folder = copies if copies.is_dir() else home / "consents"
    for path in sorted(folder.glob("*.csv")):
        stamp = "".join(ch for ch in path.stem if ch.isdigit())[-8:]
        if len(stamp) == 8 and stamp > day.strftime("%Y%m%d"):
            continue
        for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))):
            current = latest.get(row["consent_id"])
            if current is None or (row["withdrawn_on"] and not current["withdrawn_on"]):
                latest[row["consent_id"]] = row
    return list(latest.values())


def _date(text: str, default: dt.date) -> dt.date:
    return dt.date.fromisoformat(text) if text else default


def consent_scopes(home: Path, day: dt.date) -> tuple[dict[str, list[Scope]], set[str]]:
    """Scopes of the consents in force per resident, and the residents with a consent withdrawn by the day."""
    scopes: dict[str, list[Scope]] = {}
    withdrawn: set[str] = set()
    for row in _latest_consents(home, day):
        granted = dt.date.fromisoformat(row["granted_on"])
        expires = _date(row["expires_on"], dt.date.max)
        ended = _date(row["withdrawn_on"], dt.date.max)
        if ended <= day:
            withdrawn.add(row["resident_id"])
        if granted <= day <= expires and day < ended:
            scopes.setdefault(row["resident_id"], []).append(
                Scope.parse(row["scope_partners"], row["scope_sectors"])
            )
    return scopes, withdrawn


def consents_in_force(home: Path, day: dt.date) -> set[str]:
    """Resident ids with a consent in force on the day, from the consent files dated up to that day."""
    return set(consent_scopes(home, day)[0])


def _population(home: Path, day: dt.date, consented: set[str]) -> set[str]:
    path = newest_extract(home / "register", day)
    if path is None:
        return set()
    register = read_extract(path)
    return {
        str(r.resident_id)
        for r in register.itertuples(index=False)
        if r.status == "active"
        and str(r.household_size).strip() == "1"
        and age_on(dt.date.fromisoformat(str(r.birth_date)), day) >= 65
        and str(r.resident_id) in consented
    }


def eligible(home: Path, day: dt.date) -> set[str]:
    """Active one-person residents aged 65+ with consent in force on the day."""
    return _population(home, day, consents_in_force(home, day))


def partner_sectors(home: Path) -> dict[str, str]:
    """partner id -> sector, from the data home's partners.yaml."""
    data = load_yaml(home / "partners.yaml")
    return {str(p["id"]): str(p["sector"]) for p in data.get("partners", [])}


def read_day(home: Path, day: str) -> DayView:
    """One run date's published entries and notices, watched population and consent scopes."""
    date = dt.date.fromisoformat(day)
    entries, notices = published(home, day)
    scopes, withdrawn = consent_scopes(home, date)
    return DayView(day, entries, notices, _population(home, date, set(scopes)), scopes, withdrawn)


def _outside_scope(entry: dict[str, Any], scopes: list[Scope], sectors: dict[str, str]) -> list[str]:
    """Partners or sectors an entry's reasons cite that no consent in force covers."""
    outside = []
    for reason in entry["reasons"]:
        for partner in reason["partners"]:
            if not any(s.covers(partner, sectors.get(partner, "?")) for s in scopes):
                outside.append(f"{reason['rule_id']}:{partner}")
        for sector in reason["sectors"]:
            if not any(s.sectors is None or sector in s.sectors for s in scopes):
                outside.append(f"{reason['rule_id']}:{sector}")
    return outside


def privacy_violations(view: DayView, sectors: dict[str, str]) -> list[dict[str, str]]:
    """Entries listed without consent, after withdrawal, citing data outside the scope, or ineligible."""
    found = []
    for rid, entry in sorted(view.entries.items()):
        scopes = view.scopes.get(rid, [])
        problems: list[tuple[str, str]] = []
        if not scopes:
            problems.append(("after_withdrawal" if rid in view.withdrawn else "no_consent", ""))
        else:
            outside = _outside_scope(entry, scopes, sectors)
            if outside:
                problems.append(("out_of_scope", ", ".join(outside)))
            if rid not in view.watched:
                problems.append(("not_eligible", ""))
        for check, detail in problems:
            found.append(
                {"day": view.day, "resident_id": rid, "entry_id": entry["entry_id"], "check": check,
                 "detail": detail}
            )  # fmt: skip
    return found
