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


def _imports(path: Path) -> set[str]:
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize(
    "package", ["connectors", "identity", "consent", "expectations", "warehouse", "watchlist"]
)
def test_domain_packages_never_depend_on_the_cli_or_dags(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        bad = {m for m in _imports(path) if m.split(".")[0] in {"mimamori", "dags", "airflow"}}
        assert bad == set(), f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_identities_leave_the_vault_only_through_the_audited_access_module() -> None:
    allowed = {ROOT / "identity" / "vault.py", ROOT / "identity" / "access.py"}
    for package in (
        "connectors",
        "identity",
        "consent",
        "expectations",
        "warehouse",
        "watchlist",
        "mimamori",
    ):
        for path in (ROOT / package).rglob("*.py"):
            if path in allowed:
                continue
            text = path.read_text(encoding="utf-8")
            assert "unseal(" not in text and "import unseal" not in text, path.relative_to(ROOT)
