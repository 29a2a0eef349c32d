"""A list built after a pseudonym rotation equals the list the same town builds without one.

A small synthetic town runs five days; a copy of that home (and of its PostgreSQL database) is taken,
the original rotates its pseudonym key, and both run the sixth day, on which a collapsed resident is
urgent from the electricity rhythm. Entry ids follow the pseudonym, so entries are compared by the
resident they name: tier, score and every reason must match.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from mimamori import daily
from mimamori.cli import steward as steward_commands
from mimamori.context import RunContext
from mimamori.settings import load_settings
from mimamori_demo.town.generate import generate_town
from warehouse.db import engine_for

pytestmark = pytest.mark.integration

DAYS = ("2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06")
NEXT = "2026-11-07"


@pytest.fixture
def twin_database(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """Makes a copy of the warehouse database; dropped afterwards (nothing to do on SQLite)."""
    made: list[str] = []

    def copy(url: str) -> str:
        if not url.startswith("postgresql"):
            return url
        admin_url = request.getfixturevalue("pg_admin_url")
        engine_for(url).dispose()
        name = f"mimamori_twin_{uuid.uuid4().hex[:10]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(url).database}"'))
        admin.dispose()
        made.append(name)
        return make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    copies: dict[str, Any] = {"copy": copy}
    yield copies
    if made:
        admin = create_engine(request.getfixturevalue("pg_admin_url"), isolation_level="AUTOCOMMIT")
        engine_for.cache_clear()
        with admin.connect() as connection:
            for name in made:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def entries(home: Path, day: str) -> dict[str, dict[str, Any]]:
    """The day's published entries of every district by resident id, without the pseudonym-derived id."""
    found = {}
    for path in sorted((home / "outbox" / day).glob("*.json")):
        for entry in json.loads(path.read_text(encoding="utf-8"))["entries"]:
            found[entry["resident_id"]] = {k: v for k, v in entry.items() if k != "entry_id"}
    return found


def test_a_list_built_after_rotation_equals_the_list_built_without_it(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, twin_database: dict[str, Any]
):
    # seed 4: the collapse is on 11-05, so the list of NEXT carries it
    generate_town(home, residents=400, days=8, seed=4, truth_path=tmp_path / "truth.json")
    for day in DAYS:
        daily.run_day(RunContext.from_environment(), day)
    url = load_settings().database_url
    twin = tmp_path / "twin"
    shutil.copytree(home, twin)
    twin_url = twin_database["copy"](url)

    assert "→ k2" in steward_commands.rotate_keys(pseudonym=True, vault=False)
    daily.run_day(RunContext.from_environment(), NEXT)
    rotated = entries(home, NEXT)

    monkeypatch.setenv("MIMAMORI_HOME", str(twin))
    if twin_url != url:
        monkeypatch.setenv("MIMAMORI_DATABASE_URL", twin_url)
    daily.run_day(RunContext.from_environment(), NEXT)
    unrotated = entries(twin, NEXT)

    assert any(e["tier"] == "urgent" for e in unrotated.values())  # the collapse is on this day's list
    assert any(r["rule_id"] == "electricity_rhythm_lost" for e in unrotated.values() for r in e["reasons"])
    assert rotated == unrotated
