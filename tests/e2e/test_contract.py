"""The command-line contract, checked from the outside by the shared checker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
CHECKER = Path(__file__).resolve().parents[3] / "shared" / "tools" / "check_contract.py"


@pytest.mark.skipif(not CHECKER.exists(), reason="shared/tools/check_contract.py is not beside this checkout")
def test_contract_checker_passes(tmp_path: Path):
    cli = Path(sys.executable).with_name("mimamori")
    result = subprocess.run(
        [sys.executable, str(CHECKER), "--cmd", str(cli), "--work", str(tmp_path / "contract")],
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1].endswith(" 0 failed")
