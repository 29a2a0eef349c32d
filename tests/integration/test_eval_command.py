"""`mimamori eval` on a tiny town: every figure is printed and written, visits are recorded, privacy holds."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
CLI = str(Path(sys.executable).with_name("mimamori"))
LABELS = (
    "1日以内の発見率 / recall within 1 day",
    "2日以内の発見率 / recall within 2 days",
    "検出遅れ中央値 / median detection delay",
    "誤警報 / false urgent+high per 1,000 watched per day",
    "衰え / decline 14日以内に発見",
    "死別 / bereavement 14日以内に発見",
    "入院判明後の至急 / urgent while a hospital stay was known",
    "プライバシー / privacy",
    "見逃し・遅れ / missed or late cases",
    "予防 / prevention bereavement",
    "段階別の確認率 / confirmed share per tier",
)


def test_eval_runs_a_tiny_town_and_reports_every_figure(home: Path, tmp_path: Path):
    kept, figures, page = tmp_path / "town", tmp_path / "eval.json", tmp_path / "eval.html"
    result = subprocess.run(
        [CLI, "eval", "--residents", "300", "--days", "4", "--seed", "3", "--outcomes", "--home", str(kept),
         "--json", str(figures), "--report", str(page)],
        env={**os.environ}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    for label in LABELS:
        assert label in result.stdout, label
    report = json.loads(figures.read_text(encoding="utf-8"))
    assert report["town"] == {"seed": 3, "residents": 300, "days": 4, "start": "2026-11-01"}
    assert report["days"] == 4 and report["watched_per_day"] > 0
    assert report["collapse"]["cases"] + report["collapse"]["fewer_than_two_feeds"] >= 1
    assert set(report["collapse"]) >= {"recall_1_day", "recall_2_days", "median_delay_days", "detail"}
    assert report["false_alarms"]["watched_resident_days"] > 0
    assert set(report["slow"]) == {"decline", "bereavement"}
    assert report["privacy"]["violations"] == {
        "no_consent": 0,
        "after_withdrawal": 0,
        "out_of_scope": 0,
        "not_eligible": 0,
    }
    listed = sum(report["entries"].values())
    assert sum(report["outcomes_recorded"].values()) == listed > 0
    with sqlite3.connect(kept / "warehouse.db") as db:
        assert db.execute("SELECT COUNT(*) FROM outcomes").fetchone()[0] == listed
    assert not (home / "warehouse.db").exists()  # the configured home is left alone
    assert set(report["prevention"]) == {"decline", "bereavement", "move_in", "unseen"}
    tiers = report["calibration"]["tiers"]
    assert sum(t["visited"] for t in tiers.values()) == listed
    html = page.read_text(encoding="utf-8")
    assert "<svg" in html and "確認率" in html and "<script" not in html
    assert 'src="http' not in html and 'href="http' not in html  # no CDN: the chart is inline SVG


def test_eval_refuses_a_home_that_already_holds_data(home: Path):
    (home / "partners.yaml").write_text("partners: []\n", encoding="utf-8")
    result = subprocess.run(
        [CLI, "eval", "--residents", "300", "--days", "2", "--home", str(home)],
        env={**os.environ}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert "not empty" in result.stderr and "Traceback" not in result.stderr
