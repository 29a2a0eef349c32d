"""The command's habits, run as the installed `mimamori`: version, init, log lines and the exit statuses."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from connectors.registry import load_registry
from mimamori.municipality import load_municipality
from watchlist.rules import load_rules

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("mimamori"))
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00 (INFO|WARNING) [\w.]+: ")


def mimamori(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """The installed command with the test's environment (its data home, PYTHONPATH) and `extra` set."""
    env = {**os.environ, **extra}
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=env, timeout=600)


def test_version_prints_the_package_version_and_exits_zero():
    done = mimamori("--version")
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"mimamori \d+\.\d+\.\d+\S*\n", done.stdout)


def test_init_writes_commented_templates_the_loaders_accept_and_keeps_edits(home: Path):
    assert mimamori("init").returncode == 0
    assert not (home / "warehouse.db").exists() and not (home / "keys").exists()
    for name in ("municipality.yaml", "partners.yaml", "rules.yaml"):
        text = (home / name).read_text(encoding="utf-8")
        assert text.lstrip().startswith("#") and (home / name).stat().st_mode & 0o777 == 0o600
    assert load_municipality(home / "municipality.yaml").districts == {"D01": "北地区", "D02": "南地区"}
    assert load_registry(home / "partners.yaml") == {}
    assert load_rules(home).quiet_days == load_rules().quiet_days
    (home / "partners.yaml").write_text("partners: []  # edited\n", encoding="utf-8")
    again = mimamori("init")
    assert again.returncode == 0 and "kept" in again.stdout
    assert (home / "partners.yaml").read_text(encoding="utf-8") == "partners: []  # edited\n"
    (home / "municipality.yaml").unlink()
    missing = mimamori("users", "add", "somebody", "--role", "outreach", "--district", "D01")
    assert missing.returncode == 1 and "mimamori init" in missing.stderr, missing.stderr


def test_usage_errors_exit_2_and_data_errors_exit_1(tiny: Path):
    assert mimamori("run").returncode == 2
    assert mimamori("nonsense").returncode == 2
    assert mimamori("run", "--date", "2026-02-30").returncode == 1
    assert mimamori("quarantine", "show", "nobody/none").returncode == 1


def test_log_lines_are_timestamped_and_verbose_shows_progress(tiny: Path):
    quiet = mimamori("run", "--date", "2026-11-02")
    assert quiet.returncode == 0, quiet.stderr
    warnings = [line for line in quiet.stderr.splitlines() if "DEVELOPMENT key" in line]
    assert warnings and all(STAMP.match(line) for line in warnings), quiet.stderr
    assert " INFO " not in quiet.stderr
    verbose = mimamori("-v", "run", "--date", "2026-11-03")
    assert verbose.returncode == 0, verbose.stderr
    progress = [line for line in verbose.stderr.splitlines() if " INFO ingest." in line]
    assert progress and all(STAMP.match(line) for line in progress), verbose.stderr


def test_json_logs_are_one_object_a_line(home: Path):
    done = mimamori("run", "--date", "2026-11-02", MIMAMORI_LOG_FORMAT="json")
    assert done.returncode == 1  # no municipality yet, but the keys were generated and logged first
    records = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert records and {"time", "level", "logger", "message"} <= set(records[0])
    assert records[0]["level"] == "WARNING" and records[0]["time"].endswith("+00:00")
    refused = mimamori("run", "--date", "2026-11-02", MIMAMORI_LOG_FORMAT="xml")
    assert refused.returncode == 2 and "MIMAMORI_LOG_FORMAT" in refused.stderr
