"""Shared fixtures; every test carries exactly one tier marker (unit, dags, integration, e2e)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mimamori.settings import DEPLOYMENT_VARIABLES, READER_VARIABLES

TIERS = ("unit", "dags", "integration", "e2e")
ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse a test without exactly one tier marker."""
    wrong = []
    for item in items:
        tiers = [m.name for m in item.iter_markers() if m.name in TIERS]
        if len(tiers) != 1:
            wrong.append(f"{item.nodeid}: {tiers or 'no tier marker'}")
    if wrong:
        raise pytest.UsageError("every test needs exactly one tier marker:\n" + "\n".join(wrong))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh data home with the embedded defaults (SQLite, development keys)."""
    data_home = tmp_path / "home"
    data_home.mkdir()
    for name in (*DEPLOYMENT_VARIABLES, *READER_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MIMAMORI_HOME", str(data_home))
    monkeypatch.setenv("MIMAMORI_ACTOR", "test-steward")
    yield data_home
