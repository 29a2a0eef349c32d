"""The register keeps vault and population in step, and refuses an extract that would empty the city."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from identity.access import read_identities
from mimamori import daily
from mimamori.context import RunContext
from mimamori.settings import load_settings
from mimamori_demo.evaluation import published
from warehouse.db import session_scope
from warehouse.errors import InputError
from warehouse.models import WatchPopulation

pytestmark = pytest.mark.integration


def extract(home: Path, day: str) -> Path:
    return home / "register" / f"register_{day}.csv"


def test_changes_in_a_new_extract_reach_vault_and_population(tiny: Path):
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    text = extract(tiny, "20261101").read_text(encoding="utf-8")
    text = text.replace("本町1丁目2番3号,D01", "栄町7丁目7番7号,D01").replace(
        "046-333-4444,active,2000-01-01", "046-333-4444,moved_out,2026-11-02"
    )
    extract(tiny, "20261103").write_bytes(text.encode("cp932"))
    daily.run_day(RunContext.from_environment(), "2026-11-03")
    settings = load_settings()
    with session_scope(settings.database_url) as session:
        statuses = sorted(p.status for p in session.execute(select(WatchPopulation)).scalars())
        people = read_identities(
            session, settings.vault_keys, None, actor="t", purpose="view", subject="test"
        )
    assert statuses == ["active", "moved_out"]
    assert {p["address"] for p in people.values()} == {
        "神奈川県みどり市栄町7丁目7番7号",
        "神奈川県みどり市栄町4丁目5番6号",
    }


def test_an_extract_that_drops_too_many_residents_is_refused(tiny: Path):
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    lines = extract(tiny, "20261101").read_text(encoding="utf-8").splitlines()
    extract(tiny, "20261103").write_text(
        "\n".join(lines[:2]) + "\n", encoding="utf-8"
    )  # one of two residents
    with pytest.raises(InputError, match="would drop 1 of 2 residents"):
        daily.run_day(RunContext.from_environment(), "2026-11-03")


def test_a_household_left_alone_by_a_death_is_kept_and_listed_citing_no_partner(tiny: Path):
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    lines = extract(tiny, "20261101").read_text(encoding="utf-8").splitlines()
    changed = [
        lines[0] + ",household_since,household_reason",
        lines[1] + ",2026-11-01,death",  # the register shows her alone since her husband died
        lines[2] + ",1990-04-01,move_in",
    ]
    extract(tiny, "20261103").write_text("\n".join(changed) + "\n", encoding="utf-8")
    daily.run_day(RunContext.from_environment(), "2026-11-03")
    with session_scope(RunContext.from_environment().settings.database_url) as session:
        reasons = sorted(
            (p.household_since.isoformat(), p.household_reason)
            for p in session.execute(select(WatchPopulation)).scalars()
            if p.household_since is not None
        )
    assert reasons == [("1990-01-01", "move_in"), ("2026-11-01", "death")]  # older than a year: its year only
    entries = published(tiny, "2026-11-03")[0]
    reasons_of = {
        rid: [r for r in e["reasons"] if r["rule_id"] == "register_alone_after_death"]
        for rid, e in entries.items()
    }
    [reason] = reasons_of["0000000001"]
    assert reason["partners"] == [] and reason["sectors"] == []
    assert "世帯員の死亡により11/1からひとり暮らし" in reason["text_ja"]
    assert not reasons_of.get("0000000002")
