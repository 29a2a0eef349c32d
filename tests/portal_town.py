"""A small synthetic town with one portal account per role, for the portal's tests and its bench."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mimamori.settings import DEPLOYMENT_VARIABLES, Settings, load_settings
from portal.account_admin import create_account
from warehouse.db import migrate, session_scope, utcnow

CLI = str(Path(sys.executable).with_name("mimamori"))
PASSWORD = "tsukimi-dango-2026"
# login -> (role, districts, totp)
ACCOUNTS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "north": ("outreach", ("D01",), False),
    "east": ("outreach", ("D02",), True),
    "steward": ("steward", (), True),
    "auditor": ("auditor", (), True),
    "admin": ("admin", (), True),
    "kintone": ("integration", ("D01",), False),
}


@dataclass(frozen=True)
class Login:
    """How a test signs in as one account."""

    login: str
    role: str
    districts: tuple[str, ...]
    password: str | None
    totp_secret: str | None
    token: str | None


@dataclass
class PortalTown:
    """A data home with lists for some days and the accounts above."""

    home: Path
    dates: list[str]
    logins: dict[str, Login]

    def environ(self) -> dict[str, str]:
        """The environment a command or server over this home runs with."""
        env = {**os.environ, "MIMAMORI_HOME": str(self.home), "MIMAMORI_ACTOR": "portal-tester"}
        for name in DEPLOYMENT_VARIABLES:
            env.pop(name, None)
        return env

    def settings(self) -> Settings:
        """Settings for this home."""
        return load_settings({k: v for k, v in self.environ().items() if k.startswith("MIMAMORI_")})


def cli(home: Path, *args: str) -> None:
    """Run the mimamori command over the home (fails loudly)."""
    env = {**os.environ, "MIMAMORI_HOME": str(home), "MIMAMORI_ACTOR": "portal-tester"}
    for name in DEPLOYMENT_VARIABLES:
        env.pop(name, None)
    result = subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]


def build_town(
    home: Path,
    residents: int = 200,
    days: int = 2,
    seed: int = 3,
    accounts: dict[str, tuple[str, tuple[str, ...], bool]] = ACCOUNTS,
    prepare: Callable[[Path], None] | None = None,
) -> PortalTown:
    """Generate and run a town, then add the accounts (one per role, two outreach teams).

    `prepare` may change the generated inbox before the first run (e.g. spoil a delivery).
    """
    cli(home, "demo", "--residents", str(residents), "--days", str(days), "--seed", str(seed))
    if prepare is not None:
        prepare(home)
    dates = json.loads(home.with_name(f"{home.name}.truth.json").read_text(encoding="utf-8"))["run_dates"]
    for day in dates:
        cli(home, "run", "--date", day)
    town = PortalTown(home, dates, {})
    town.logins = add_accounts(town.settings(), accounts)
    return town


def add_accounts(
    settings: Settings, accounts: dict[str, tuple[str, tuple[str, ...], bool]] = ACCOUNTS
) -> dict[str, Login]:
    """Create the test accounts; return their credentials."""
    migrate(settings.database_url)
    logins = {}
    with session_scope(settings.database_url) as db:
        for login, (role, districts, totp) in accounts.items():
            made = create_account(
                db,
                login=login,
                role=role,
                districts=districts,
                display_name=f"{login} テスト",
                password=None if role == "integration" else PASSWORD,
                totp=totp,
                vault_keys=settings.vault_keys,
                known_districts=("D01", "D02", "D03", "D04"),
                actor="portal-tester",
                now=utcnow(),
            )
            logins[login] = Login(
                login,
                role,
                districts,
                None if role == "integration" else PASSWORD,
                made.totp_secret,
                made.token,
            )
    return logins
