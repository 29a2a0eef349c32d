"""Judge published lists against the raw register, consent files and a synthetic town's ground truth.

Independent of the warehouse on purpose: it reads only the files a municipality would hand over,
so a bug in the pipeline cannot hide itself here.
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

TIER_RANK = {"urgent": 0, "high": 1, "watch": 2}


@dataclass
class Evaluation:
    """What the lists got right and wrong, per day and per scenario."""

    entries: int = 0
    ineligible: list[tuple[str, str, str]] = field(default_factory=list)
    per_day: dict[str, dict[str, int]] = field(default_factory=dict)
    scenarios: list[dict[str, Any]] = field(default_factory=list)
    unexpected_urgent: int = 0


def listed(home: Path, day: str) -> dict[str, dict[str, Any]]:
    """resident_id -> entry of every district's published JSON list for a day."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted((home / "outbox" / day).glob("*.json")):
        for entry in json.loads(path.read_text(encoding="utf-8"))["entries"]:
            found[str(entry["resident_id"])] = entry
    return found


def consents_in_force(home: Path, day: dt.date) -> set[str]:
    """Resident ids with a consent in force on the day, from the consent files dated up to that day."""
    latest: dict[str, dict[str, str]] = {}
    for path in sorted((home / "consents").glob("*.csv")):
        stamp = "".join(ch for ch in path.stem if ch.isdigit())[-8:]
        if len(stamp) == 8 and stamp > day.strftime("%Y%m%d"):
            continue
        for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))):
            current = latest.get(row["consent_id"])
            if current is None or (row["withdrawn_on"] and not current["withdrawn_on"]):
                latest[row["consent_id"]] = row
    ok = set()
    for row in latest.values():
        granted = dt.date.fromisoformat(row["granted_on"])
        expires = dt.date.fromisoformat(row["expires_on"]) if row["expires_on"] else dt.date.max
        withdrawn = dt.date.fromisoformat(row["withdrawn_on"]) if row["withdrawn_on"] else dt.date.max
        if granted <= day <= expires and day < withdrawn:
            ok.add(row["resident_id"])
    return ok


def eligible(home: Path, day: dt.date) -> set[str]:
    """Active one-person residents aged 65+ with consent in force on the day."""
    path = newest_extract(home / "register", day)
    if path is None:
        return set()
    register = read_extract(path)
    consented = consents_in_force(home, day)
    return {
        str(r.resident_id)
        for r in register.itertuples(index=False)
        if r.status == "active"
        and str(r.household_size).strip() == "1"
        and age_on(dt.date.fromisoformat(str(r.birth_date)), day) >= 65
        and str(r.resident_id) in consented
    }


def evaluate(home: Path, truth_path: Path, days: list[str]) -> Evaluation:
    """Compare each day's lists with eligibility and with the scenarios of the ground truth."""
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    result = Evaluation()
    lists = {day: listed(home, day) for day in days}
    scenario_ids = {s["resident_id"] for s in truth["scenarios"]}
    for day, entries in lists.items():
        allowed = eligible(home, dt.date.fromisoformat(day))
        result.entries += len(entries)
        tiers = {t: sum(1 for e in entries.values() if e["tier"] == t) for t in TIER_RANK}
        result.per_day[day] = tiers
        for rid, entry in entries.items():
            if rid not in allowed:
                result.ineligible.append((day, rid, entry["entry_id"]))
            if entry["tier"] == "urgent" and rid not in scenario_ids:
                result.unexpected_urgent += 1
    for s in truth["scenarios"]:
        days_listed = [d for d in days if s["resident_id"] in lists[d]]
        result.scenarios.append(
            {
                "scenario": s["scenario"],
                "resident_id": s["resident_id"],
                "expected_from": s.get("should_be_listed_from"),
                "expected_tier": s.get("expected_tier"),
                "must_not_from": s.get("must_not_be_listed_from"),
                "first_listed": days_listed[0] if days_listed else None,
                "tiers": {d: lists[d][s["resident_id"]]["tier"] for d in days_listed},
            }
        )
    return result
