"""The hub file, each municipality's environment, and the date a DAG run works on."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from mimamori import hub, jobs
from warehouse.errors import ConfigurationError, InputError

pytestmark = pytest.mark.unit
JST = dt.timezone(dt.timedelta(hours=9))


def write_hub(folder: Path, body: str) -> Path:
    path = folder / "hub.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_the_hub_file_gives_each_municipality_its_home_and_setting_sources(tmp_path: Path):
    path = write_hub(
        tmp_path,
        "municipalities:\n"
        "  - {code: '149999', home: midori, env: {MIMAMORI_DATABASE_URL: MIDORI_DB}}\n"
        f"  - {{code: '148888', home: {tmp_path / 'elsewhere'}}}\n",
    )
    members = hub.load_hub(path)
    assert sorted(members) == ["148888", "149999"]
    assert members["149999"].home == tmp_path / "midori"
    assert members["148888"].home == tmp_path / "elsewhere"
    assert members["149999"].env == {"MIMAMORI_DATABASE_URL": "MIDORI_DB"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("municipalities: []\n", "non-empty"),
        ("municipalities:\n  - {home: a}\n", "needs a code and a home"),
        ("municipalities:\n  - {code: '1', home: a}\n  - {code: '1', home: b}\n", "listed twice"),
        ("municipalities:\n  - {code: '1', home: a}\n  - {code: '2', home: a}\n", "share a data home"),
        ("municipalities:\n  - {code: '1', home: a, env: {MIMAMORI_ENV: X}}\n", "unknown settings"),
        ("municipalities: [\n", "not valid YAML"),
    ],
)
def test_a_malformed_hub_file_is_a_clear_input_error(tmp_path: Path, body: str, reason: str):
    with pytest.raises(InputError, match=reason):
        hub.load_hub(write_hub(tmp_path, body))


def test_a_municipality_never_inherits_the_hubs_own_warehouse_or_keys(tmp_path: Path):
    member = hub.Member("149999", tmp_path / "midori", {"MIMAMORI_VAULT_KEYS": "MIDORI_VAULT"})
    environ = {
        "PATH": "/bin",
        "MIMAMORI_HOME": "/hub",
        "MIMAMORI_DATABASE_URL": "postgresql://hub",
        "MIMAMORI_PSEUDONYM_KEYS": "hub:secret",
        "MIDORI_VAULT": "v9:key",
    }
    own = hub.member_environment(member, environ)
    assert own["MIMAMORI_HOME"] == str(tmp_path / "midori")
    assert own["MIMAMORI_VAULT_KEYS"] == "v9:key" and own["PATH"] == "/bin"
    assert "MIMAMORI_DATABASE_URL" not in own and "MIMAMORI_PSEUDONYM_KEYS" not in own


def test_a_missing_setting_variable_or_a_production_entry_without_keys_refuses_to_start(tmp_path: Path):
    member = hub.Member("149999", tmp_path / "midori", {"MIMAMORI_DATABASE_URL": "MIDORI_DB"})
    with pytest.raises(ConfigurationError, match="MIDORI_DB"):
        hub.member_environment(member, {})
    with pytest.raises(ConfigurationError, match="MIMAMORI_PSEUDONYM_KEYS"):
        hub.member_environment(member, {"MIMAMORI_ENV": "production", "MIDORI_DB": "postgresql://m"})


def test_each_municipality_gets_its_own_context_and_the_process_environment_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("MIMAMORI_HOME", str(tmp_path / "hub"))
    path = write_hub(
        tmp_path, "municipalities:\n  - {code: '149999', home: midori}\n  - {code: '148888', home: aoba}\n"
    )
    hub_environment = {"MIMAMORI_HOME": str(tmp_path / "hub"), "MIMAMORI_HUB_CONFIG": str(path)}
    before = dict(os.environ)
    midori = hub.member_context(hub_environment, "149999")
    aoba = hub.member_context(hub_environment, "148888", str(path))
    assert dict(os.environ) == before
    assert (midori.settings.home, aoba.settings.home) == (tmp_path / "midori", tmp_path / "aoba")
    assert midori.settings.database_url != aoba.settings.database_url
    assert midori.settings.vault_keys.keys != aoba.settings.vault_keys.keys
    assert hub.municipality_codes(hub_environment) == ["148888", "149999"]
    with pytest.raises(InputError, match="not in the hub file"):
        hub.member_context(hub_environment, "100000")
    with pytest.raises(ConfigurationError, match="MIMAMORI_HUB_CONFIG"):
        hub.municipality_codes({})


def test_the_date_a_dag_run_works_on():
    morning = dt.datetime(2026, 11, 2, 6, 30, tzinfo=JST)
    assert jobs.run_date({"run_date": "2026-10-30"}, morning) == "2026-10-30"
    assert jobs.run_date({"run_date": None}, morning.astimezone(dt.UTC)) == "2026-11-02"
    # started by the ready-feeds event: the announced day, whatever the time the run started
    assert jobs.run_date({}, None, ["2026-11-01", "2026-11-02", ""], morning) == "2026-11-02"
    assert jobs.run_date({}, None, [], dt.datetime(2026, 11, 2, 16, 0, tzinfo=dt.UTC)) == "2026-11-03"
    with pytest.raises(InputError):
        jobs.run_date({}, None, [], None)
    with pytest.raises(InputError):
        jobs.run_date({}, None, ["2026-13-01"], morning)
