"""One retention setting everywhere: the day, the retention job and the consent receipt read one value."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mimamori import jobs
from mimamori.settings import load_settings
from warehouse.db import session_scope
from warehouse.models import Signal

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("mimamori"))


def mimamori(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed command, as an operator runs it (the test's environment, PYTHONPATH included)."""
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=dict(os.environ), timeout=600)


def signals() -> int:
    """Signals of 2026-11-01 (the tiny home's first day) still held."""
    with session_scope(load_settings().database_url) as session:
        query = select(func.count()).select_from(Signal).where(Signal.event_start < dt.datetime(2026, 11, 2))
        return int(session.execute(query).scalar_one())


def test_a_longer_window_keeps_a_100_day_old_signal_through_run_and_the_receipt_says_so(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("MIMAMORI_RETENTION_SIGNALS_DAYS", "120")
    first = mimamori("run", "--date", "2026-11-02")
    assert first.returncode == 0, first.stderr
    kept = signals()
    assert kept > 0
    # 2027-02-10 is 101 days after the signals of 2026-11-01: past the default 90, inside 120
    later = mimamori("run", "--date", "2027-02-10")
    assert later.returncode == 0, later.stderr
    assert signals() == kept
    assert jobs.expire("2027-02-10")["signals"] == 0
    assert signals() == kept
    receipt = mimamori("consent", "receipt", "C-1", "--format", "json")
    assert receipt.returncode == 0, receipt.stderr
    assert json.loads(receipt.stdout)["processing"]["retention"]["signals_days"] == 120


def test_the_default_window_still_expires_them(tiny: Path):
    assert mimamori("run", "--date", "2026-11-02").returncode == 0
    assert signals() > 0
    later = mimamori("run", "--date", "2027-02-10")
    assert later.returncode == 0, later.stderr
    assert signals() == 0


@pytest.mark.parametrize("value", ["0", "-3", "ninety"])
def test_a_bad_window_is_a_one_line_start_up_error(tiny: Path, monkeypatch: pytest.MonkeyPatch, value: str):
    monkeypatch.setenv("MIMAMORI_RETENTION_SIGNALS_DAYS", value)
    done = mimamori("run", "--date", "2026-11-02")
    assert done.returncode == 1
    assert "MIMAMORI_RETENTION_SIGNALS_DAYS" in done.stderr and "Traceback" not in done.stderr
