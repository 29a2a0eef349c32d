"""The generic top-level package names resolve inside this repository, not to a namesake elsewhere."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "name", ["connectors", "identity", "consent", "expectations", "warehouse", "watchlist", "mimamori"]
)
def test_package_resolves_in_repository(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().parent == ROOT / name
