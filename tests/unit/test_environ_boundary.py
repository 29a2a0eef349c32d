"""Only entry points read the process environment; everything below them is handed settings or a mapping."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
SKIPPED = {"tests", "bench", "node_modules", "build", "dist", "var"}  # tests and benchmarks are entry points

# Modules that may touch os.environ / os.getenv: the settings loader and the processes' own entry points.
READS_ENVIRON = {
    "mimamori/settings.py",  # the loader: process_environment() and load_settings() without a mapping
    "mimamori/cli/main.py",
    "demo/mimamori_demo/airflow_local.py",  # starts the demo's Airflow with the caller's environment
}
READS_ENVIRON_FOLDERS = ("dags/",)
# Modules that may resolve settings from the process environment (through the loader): entry layers only.
RESOLVES_SETTINGS = {
    "mimamori/settings.py",
    "mimamori/context.py",  # RunContext.from_environment, for the entry points below
    "mimamori/jobs.py",  # the DAG tasks' entry points
    "mimamori/alerts.py",  # the DAGs' failure and deadline callbacks, run by Airflow: entry points too
    "demo/mimamori_demo/demo_command.py",
    "demo/mimamori_demo/eval_run.py",
}
RESOLVES_SETTINGS_FOLDERS = ("mimamori/cli/", "dags/")
ENVIRON_NAMES = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}
# Resolve from the process environment when called without a mapping / always.
LOADERS = {"load_settings", "database_url", "warehouse_url", "holds_audit_signer"}
ALWAYS_ENVIRONMENT = {"process_environment", "from_environment", "warehouse_settings"}


def environ_reads(source: str) -> list[int]:
    """Lines that use os.environ, os.getenv and the like (also imported by name from os)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ENVIRON_NAMES
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            lines += [node.lineno for alias in node.names if alias.name in ENVIRON_NAMES]
    return lines


def settings_resolutions(source: str) -> list[int]:
    """Lines that resolve settings from the process environment (a loader called without a mapping)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name in ALWAYS_ENVIRONMENT or (name in LOADERS and not node.args and not node.keywords):
            lines.append(node.lineno)
    return lines


def modules() -> list[tuple[str, str]]:
    """(path relative to the repository, source) of every Python module outside tests and benchmarks."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if parts[0] in SKIPPED or any(p.startswith(".") for p in parts):
            continue
        found.append(("/".join(parts), path.read_text(encoding="utf-8")))
    return found


def test_the_probes_catch_every_form_of_reading_the_environment():
    source = (
        "import os\nfrom os import getenv\nfrom mimamori.context import RunContext\n"
        "a = os.environ['X']\nb = os.getenv('Y')\nos.environ.update({})\n"
        "s = load_settings()\nt = load_settings({'MIMAMORI_HOME': '/h'})\nc = RunContext.from_environment()\n"
        "u = settings_module.database_url()\n"
    )
    assert environ_reads(source) == [2, 4, 5, 6]
    assert settings_resolutions(source) == [7, 9, 10]
    assert len(modules()) > 50 and any(path == "mimamori/daily.py" for path, _ in modules())


def outside(allowed: set[str], folders: tuple[str, ...], probe: Callable[[str], list[int]]) -> list[str]:
    """`path:line` of every hit of the probe in a module that is neither allowed nor in an allowed folder."""
    return [
        f"{path}:{line}"
        for path, source in modules()
        if path not in allowed and not path.startswith(folders)
        for line in probe(source)
    ]


def test_no_module_below_the_entry_points_reads_os_environ():
    found = outside(READS_ENVIRON, READS_ENVIRON_FOLDERS, environ_reads)
    assert not found, "os.environ read outside an entry point: " + ", ".join(found)


def test_only_entry_points_resolve_settings_from_the_process_environment():
    found = outside(RESOLVES_SETTINGS, RESOLVES_SETTINGS_FOLDERS, settings_resolutions)
    assert not found, "settings resolved from the environment below an entry point: " + ", ".join(found)
