"""A small synthetic town run day by day through the real CLI, shared by the end-to-end tests."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mimamori.settings import DEPLOYMENT_VARIABLES
from mimamori_demo.evaluation import consent_copies, listed

CLI = str(Path(sys.executable).with_name("mimamori"))


@dataclass
class Town:
    """A town home, its ground truth, the run dates and what the test changed along the way."""

    home: Path
    truth: dict
    dates: list[str]
    withdrawn: str = ""
    withdrawn_from: str = ""
    runs: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "MIMAMORI_HOME": str(self.home), "MIMAMORI_ACTOR": "e2e-tester"}
        for name in DEPLOYMENT_VARIABLES:
            env.pop(name, None)
        result = subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=600)
        if check:
            assert result.returncode == 0, result.stderr[-2000:]
        return result


def withdraw(home: Path, resident_id: str, day: str) -> str:
    """Write a steward's consent file withdrawing every consent of the resident from the day."""
    rows, header = [], None
    for path in sorted(consent_copies(home).glob("*.csv")):  # the home's forms are sealed once imported
        reader = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")))
        header = reader.fieldnames
        rows += [r for r in reader if r["resident_id"] == resident_id and not r["withdrawn_on"]]
    assert rows and header
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "withdrawn_on": day})
    (home / "consents" / f"consents_{day.replace('-', '')}_steward.csv").write_text(
        out.getvalue(), encoding="utf-8"
    )
    return rows[0]["consent_id"]


@pytest.fixture(scope="session")
def town(tmp_path_factory: pytest.TempPathFactory) -> Town:
    """400 residents, 10 days; the collapse resident withdraws consent two days before the end."""
    home = tmp_path_factory.mktemp("e2e") / "home"
    probe = Town(home, {}, [])
    probe.cli("demo", "--residents", "400", "--days", "10", "--seed", "3")
    truth = json.loads(home.with_name("home.truth.json").read_text(encoding="utf-8"))
    town = Town(home, truth, truth["run_dates"])
    collapse = next(s for s in truth["scenarios"] if s["scenario"] == "collapse")
    for index, day in enumerate(town.dates):
        if index == len(town.dates) - 2:
            previous = listed(home, town.dates[index - 1])
            assert collapse["resident_id"] in previous, "the collapse must be listed before the withdrawal"
            town.withdrawn, town.withdrawn_from = collapse["resident_id"], day
            withdraw(home, collapse["resident_id"], day)
        town.runs[day] = town.cli("run", "--date", day)
    return town
