"""A feed outage on a collapse's morning: no silence read from it, a notice instead; outcomes per rule."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mimamori.context import RunContext
from mimamori.settings import DEPLOYMENT_VARIABLES

pytestmark = pytest.mark.integration
UTILITIES = ("midori-denki", "minato-suido")
SILENCE_RULES = {"electricity_rhythm_lost", "water_none", "gas_none"}
OUTAGE = "2026-11-06"  # seed 3: a collapse on 11-05 10:06 belongs on this morning's list


@dataclass
class Town:
    home: Path
    collapse: dict[str, Any]
    summaries: dict[str, dict[str, Any]]

    def lists(self, day: str) -> list[dict[str, Any]]:
        return [
            json.loads(p.read_text(encoding="utf-8"))
            for p in sorted((self.home / "outbox" / day).glob("*.json"))
        ]

    def entry(self, day: str, resident_id: str) -> dict[str, Any] | None:
        found = [e for lst in self.lists(day) for e in lst["entries"] if e["resident_id"] == resident_id]
        return found[0] if found else None


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    """300 residents over 6 days; both utilities' deliveries for the outage morning arrive a day late."""
    from mimamori import daily
    from mimamori_demo.town import generate_town

    root = tmp_path_factory.mktemp("outage")
    home, aside = root / "home", root / "aside"
    with pytest.MonkeyPatch.context() as env:
        for name in DEPLOYMENT_VARIABLES:
            env.delenv(name, raising=False)
        env.setenv("MIMAMORI_HOME", str(home))
        env.setenv("MIMAMORI_ACTOR", "test-team")
        generate_town(home, residents=300, days=6, seed=3, truth_path=root / "truth.json")
        truth = json.loads((root / "truth.json").read_text(encoding="utf-8"))
        collapse = next(s for s in truth["scenarios"] if s["scenario"] == "collapse")
        assert collapse["should_be_listed_from"] == OUTAGE
        summaries = {}
        for day in truth["run_dates"]:
            held = [home / "inbox" / p / f"{day.replace('-', '')}-01" for p in UTILITIES]
            if day == OUTAGE:
                for folder in held:
                    (aside / folder.parent.name).mkdir(parents=True)
                    shutil.move(folder, aside / folder.parent.name / folder.name)
            summaries[day] = daily.run_day(RunContext.from_environment(), day)
            if day == OUTAGE:
                for folder in held:
                    shutil.move(aside / folder.parent.name / folder.name, folder)
        yield Town(home, collapse, summaries)


def test_a_feed_outage_gives_no_silence_alerts_and_a_notice_instead(town: Town):
    statuses = town.summaries[OUTAGE]["assess_feeds"]
    assert {p: statuses[p] for p in UTILITIES} == {p: "missing" for p in UTILITIES}
    for listing in town.lists(OUTAGE):
        named = {n["partner_id"] for n in listing["notices"]}
        assert set(UTILITIES) <= named
        assert any(
            "みどり電力" in n["text_ja"] and "判定に使っていません" in n["text_ja"]
            for n in listing["notices"]
        )
        cited = {r["rule_id"] for e in listing["entries"] for r in e["reasons"]}
        assert not cited & SILENCE_RULES
    entry = town.entry(OUTAGE, town.collapse["resident_id"])
    assert entry is None or entry["tier"] != "urgent"
    # The late deliveries arrive with the next day's: the same silence is read and the collapse is urgent.
    later = town.entry("2026-11-07", town.collapse["resident_id"])
    assert later is not None and later["tier"] == "urgent"
    assert {"electricity_rhythm_lost", "water_none"} <= {r["rule_id"] for r in later["reasons"]}


def test_outcomes_show_per_rule_how_often_a_listing_was_confirmed(town: Town):
    from mimamori.cli import pipeline as commands
    from mimamori.settings import load_settings
    from warehouse.db import session_scope
    from watchlist.feedback import rule_report

    with pytest.MonkeyPatch.context() as env:
        for name in DEPLOYMENT_VARIABLES:
            env.delenv(name, raising=False)
        env.setenv("MIMAMORI_HOME", str(town.home))
        env.setenv("MIMAMORI_ACTOR", "test-team")
        collapse = town.entry("2026-11-07", town.collapse["resident_id"])
        assert collapse is not None
        commands.record_outcome(collapse["entry_id"], "emergency_called", "2026-11-07", None)
        others = [e for lst in town.lists("2026-11-07") for e in lst["entries"]]
        other = next(  # another listing, for another rule: its visit found the resident well
            e
            for e in others
            if e["resident_id"] != town.collapse["resident_id"]
            and all(r["rule_id"] != "electricity_rhythm_lost" for r in e["reasons"])
        )
        commands.record_outcome(other["entry_id"], "safe_no_action", "2026-11-07", None)
        with session_scope(load_settings().database_url) as session:
            standings = {r.rule_id: r for r in rule_report(session, None)}
            after = rule_report(session, dt.date(2026, 11, 8))
        rhythm = standings["electricity_rhythm_lost"]
        assert rhythm.visited == 1 and rhythm.confirmed == 1 and rhythm.confirmed_share == 1.0
        assert after == []  # nothing listed since then
        first_rule = other["reasons"][0]["rule_id"]
        assert standings[first_rule].safe >= 1
        text = commands.rules_report("2026-11-07")
        assert "ルール / rule" in text and "確認率" in text
        row = next(line for line in text.splitlines() if "electricity_rhythm_lost" in line)
        assert "100%" in row
