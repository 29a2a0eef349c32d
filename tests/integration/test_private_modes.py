"""Whatever the umask, the data home and what it keeps about people are for the service account only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_raw_retention import HANAKO, HEADER, deliver

from mimamori import daily
from mimamori.context import RunContext

pytestmark = pytest.mark.integration

KEPT = ("outbox", "quarantine", "archive", "consents", "keys")


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_home_lists_quarantine_archive_and_consent_copies_are_private(tiny: Path, umask: int):
    os.chmod(tiny, 0o755)  # as an operator's mkdir would leave it
    deliver(tiny, "20261102-09", HEADER + HANAKO, 1, utf8=True)  # quarantined
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    assert mode(tiny) == 0o700
    for name in KEPT:
        root = tiny / name
        assert root.is_dir(), name
        folders = [root, *(p for p in root.rglob("*") if p.is_dir())]
        files = [p for p in root.rglob("*") if p.is_file()]
        assert files, name
        assert {str(p.relative_to(tiny)): mode(p) for p in folders if mode(p) != 0o700} == {}
        assert {str(p.relative_to(tiny)): mode(p) for p in files if mode(p) != 0o600} == {}
