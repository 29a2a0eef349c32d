"""A town served by `mimamori serve` in a subprocess on a free port, and Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from portal_town import ACCOUNTS, PortalTown, build_town
from steward_town import add_reviews, utf8_instead_of_cp932

CHROMIUM = Path("/usr/bin/chromium")
JAPANESE_UI = Path("/usr/lib/chromium/locales/ja.pak")  # Debian's chromium-l10n
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--lang=ja-JP",  # the UI language: date inputs show 年/月/日 as a Japanese user sees them
]
BROWSER_ENV = {"LANG": "ja_JP.UTF-8", "LANGUAGE": "ja", "TZ": "Asia/Tokyo"}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CLI = str(Path(sys.executable).with_name("mimamori"))


@dataclass
class Served:
    """The running portal: its base URL and the town behind it."""

    url: str
    town: PortalTown


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError("the portal exited: " + log.read_text(errors="replace")[-2000:])
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("the portal did not answer /healthz within 60 s")


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One town (two outreach districts and every role) and one server for the whole browser suite."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)", pytrace=False)
    home = tmp_path_factory.mktemp("browser") / "home"
    # "locky" exists to be locked out without disturbing the other tests.
    town = build_town(
        home,
        residents=300,
        days=3,
        accounts={**ACCOUNTS, "locky": ("outreach", ("D03",), False)},
        prepare=utf8_instead_of_cp932,  # a quarantined delivery for the steward's pages
    )
    add_reviews(town.settings(), 2)
    port = _free_port()
    log = home.parent / "portal.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=town.environ(),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, process, log)
        yield Served(url, town)
    finally:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
    assert "?" not in "".join(
        line for line in log.read_text(errors="replace").splitlines() if " GET " in line or " POST " in line
    ), "the access log must carry paths only"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    if not JAPANESE_UI.exists():
        pytest.fail(
            f"{JAPANESE_UI} is missing: apt-get install -y chromium-l10n (.ci/run does)", pytrace=False
        )
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, env={**os.environ, **BROWSER_ENV}
        )
        try:
            yield launched
        finally:
            launched.close()
