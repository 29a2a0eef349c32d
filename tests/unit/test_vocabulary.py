"""One vocabulary: every YAML file fails the same way, one Japan time, statuses as their stored text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connectors.registry import load_registry
from mimamori.hub import load_hub
from mimamori.municipality import load_municipality
from mimamori_demo.evaluation import partner_sectors
from warehouse.errors import InputError
from warehouse.vocabulary import JST, DeliveryStatus, RunStatus
from watchlist.rules import load_rules

pytestmark = pytest.mark.unit

# Each reader of a YAML file, and the file name it reads from a folder.
READERS: dict[str, tuple[str, Callable[[Path], Any]]] = {
    "registry": ("partners.yaml", lambda folder: load_registry(folder / "partners.yaml")),
    "evaluation": ("partners.yaml", lambda folder: partner_sectors(folder)),
    "hub": ("hub.yaml", lambda folder: load_hub(folder / "hub.yaml")),
    "municipality": ("municipality.yaml", lambda folder: load_municipality(folder / "municipality.yaml")),
    "rules": ("rules.yaml", lambda folder: load_rules(folder)),
}


@pytest.mark.parametrize("reader", sorted(READERS))
def test_every_yaml_file_is_refused_with_the_same_reason(reader: str, tmp_path: Path):
    name, read = READERS[reader]
    (tmp_path / name).write_text("key: [\n  unclosed: 1\n", encoding="utf-8")
    with pytest.raises(InputError) as broken:
        read(tmp_path)
    assert str(broken.value) == f"{name}: YAML として読めません / not valid YAML at line 3"
    (tmp_path / name).write_text("- a list\n", encoding="utf-8")
    with pytest.raises(InputError) as listed:
        read(tmp_path)
    assert str(listed.value) == f"{name}: 項目の一覧が必要です / expected a mapping at the top level"


@pytest.mark.parametrize("reader", ["registry", "hub", "municipality"])
def test_a_missing_settings_file_names_itself(reader: str, tmp_path: Path):
    name, read = READERS[reader]
    with pytest.raises(InputError, match=rf"^{name}: ファイルがありません / file not found"):
        read(tmp_path)


def test_japan_time_and_statuses_read_as_their_text():
    moment = dt.datetime(2026, 11, 26, 4, 10, tzinfo=JST)
    assert moment.isoformat() == "2026-11-26T04:10:00+09:00" and moment.tzname() == "JST"
    assert DeliveryStatus.LOADED == "loaded" and f"{RunStatus.SUCCESS}" == "success"
