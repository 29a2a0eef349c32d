"""Installs are reproducible: the environment is the lock, the image installs the lock, images are pinned."""

from __future__ import annotations

import re
from importlib.metadata import distributions
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
OWN = {"mimamori", "mimamori-demo"}
# A new venv brings its own installer; the lock pins what the project needs, not the venv's bootstrap.
BOOTSTRAP = {"pip", "setuptools", "wheel"}


def pins(name: str, folder: Path = ROOT / "requirements") -> dict[str, str]:
    """The `name==version` lines of a lock file, by canonical name."""
    text = (folder / name).read_text(encoding="utf-8")
    found = re.findall(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", text, flags=re.M)
    return {canonicalize_name(n): v for n, v in found}


def installed() -> dict[str, str]:
    """Every distribution in this environment but the project's own and the venv's bootstrap."""
    found = {canonicalize_name(d.metadata["Name"]): d.version for d in distributions()}
    return {n: v for n, v in found.items() if n not in OWN | BOOTSTRAP}


def test_this_environment_is_exactly_the_development_lock():
    lock = {n: v for n, v in pins("dev.lock").items() if n not in BOOTSTRAP}
    here = installed()
    assert {n: v for n, v in here.items() if lock.get(n) != v} == {}, "installed but not as locked"
    assert sorted(set(lock) - set(here)) == [], "locked but not installed"


def test_the_runtime_lock_takes_the_development_lock_versions():
    dev, runtime = pins("dev.lock"), pins("runtime.lock")
    assert runtime, "requirements/runtime.lock is empty"
    assert {n: v for n, v in runtime.items() if dev.get(n) != v} == {}


@pytest.mark.parametrize(
    ("pyproject", "lock", "extras"),
    [
        ("pyproject.toml", "runtime.lock", ()),
        ("pyproject.toml", "dev.lock", ("dev",)),
        ("demo/pyproject.toml", "dev.lock", ()),
    ],
)
def test_every_declared_dependency_is_pinned_within_its_range(pyproject: str, lock: str, extras: tuple[str]):
    import tomllib

    project = tomllib.loads((ROOT / pyproject).read_text(encoding="utf-8"))["project"]
    declared = list(project["dependencies"])
    for extra in extras:
        declared += project["optional-dependencies"][extra]
    pinned = pins(lock)
    for spec in map(Requirement, declared):
        name = canonicalize_name(spec.name)
        if name in OWN:
            continue
        assert name in pinned, f"{spec.name} is declared in {pyproject} but not pinned in {lock}"
        assert spec.specifier.contains(pinned[name], prereleases=True), f"{spec} vs {pinned[name]}"


def test_the_image_installs_the_runtime_lock_and_nothing_resolved_again():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install --no-deps -r requirements/runtime.lock" in dockerfile
    installs = re.findall(r"pip install [^&\n\\]*", dockerfile)
    assert installs and all("--no-deps" in line for line in installs), installs
    assert re.search(r"^FROM python:3\.11\.\d+-slim-\w+$", dockerfile, flags=re.M)


def test_compose_images_carry_exact_versions():
    compose = yaml.safe_load((ROOT / "docker-compose.yaml").read_text(encoding="utf-8"))
    images = {name: svc["image"] for name, svc in compose["services"].items() if "image" in svc}
    # ${VAR:-default}: the operator may name another image; the default must still be exact
    images = {n: re.sub(r"^\$\{\w+:-(.*)\}$", r"\1", i) for n, i in images.items()}
    external = {n: i for n, i in images.items() if not i.startswith("mimamori:")}
    assert external
    floating = {n: i for n, i in external.items() if not re.search(r":\d+\.\d+[\w.\-]*$|@sha256:", i)}
    assert floating == {}


def test_make_lock_reproduces_the_committed_locks(tmp_path: Path):
    """`make lock` over the committed files changes nothing: the locks are current with pyproject.toml."""
    import shutil
    import subprocess

    for name in ("dev.lock", "runtime.lock"):
        shutil.copy(ROOT / "requirements" / name, tmp_path / name)
    make = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/bin/.installed", "lock", f"LOCK_DIR={tmp_path}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert make.returncode == 0, make.stderr[-2000:]
    for name in ("dev.lock", "runtime.lock"):
        assert pins(name, tmp_path) == pins(name), f"requirements/{name} is not what make lock makes"
