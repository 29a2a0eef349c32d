"""Every DAG runs green under dag.test() on a tiny town, on SQLite and PostgreSQL, and does what it says."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from dag_runner import run_dags
from sqlalchemy import func, select

from consent.importer import COLUMNS
from mimamori import daily
from mimamori.cli import pipeline as commands
from mimamori.cli import steward as steward_commands
from mimamori.context import RunContext
from mimamori.settings import DEPLOYMENT_VARIABLES
from mimamori_demo.airflow_local import airflow_env
from warehouse.db import session_scope
from warehouse.models import (
    AuditRecord,
    ConsentRecord,
    ConsentTombstone,
    Delivery,
    IdentityVault,
    KeyState,
    PipelineRun,
    Signal,
)

pytestmark = pytest.mark.integration
CLI = str(Path(sys.executable).with_name("mimamori"))
GAS = (
    "  - id: tokai-gas\n    name: 東海ガス\n    sector: utility\n    encoding: utf-8\n    due_by: '06:00'\n"
    "    agreement: {ref: G, valid_from: 2025-04-01, valid_to: 2028-03-31}\n"
)
# The people of the tiny town as they could leak: register ids, names and phone numbers.
IDENTIFIERS = ("0000000001", "0000000002", "山田", "花子", "ヤマダ", "ﾔﾏﾀﾞ", "ｽｽﾞｷ", "046-111", "0461112222")


def metadata(home: Path, query: str) -> list[tuple]:
    with sqlite3.connect(home / "airflow" / "airflow.db") as db:
        return db.execute(query).fetchall()


def entries(outbox_day: Path) -> list[tuple]:
    """A published day's entries as people, tiers, scores and rules (entry ids and pseudonyms differ)."""
    found = []
    for path in sorted(outbox_day.glob("*.json")):
        for e in json.loads(path.read_text(encoding="utf-8"))["entries"]:
            rules = tuple(sorted(r["rule_id"] for r in e["reasons"]))
            found.append((path.stem, e["resident_id"], e["tier"], e["score"], rules))
    return sorted(found)


def deliver_uncollected(home: Path) -> None:
    """A second co-op delivery for 1 November: Hanako's previous delivery was still there (UTF-8 as sent)."""
    folder = home / "inbox" / "kanda-coop" / "20261102-02"
    folder.mkdir(parents=True)
    body = (
        "partner_customer_id,name_kana,name_kanji,birth_date,address,phone,event_time,event_type\n"
        "KC1,ﾔﾏﾀﾞ ﾊﾅｺ,山田花子,19400302,本町1-2-3,,2026-11-01T18:00:00,previous_uncollected\n"
    ).encode("cp932")
    (folder / "events.csv").write_bytes(body)
    manifest = {
        "spec_version": "1",
        "partner_id": "kanda-coop",
        "sector": "delivery",
        "delivery_id": folder.name,
        "period_start": "2026-11-01T00:00:00+09:00",
        "period_end": "2026-11-02T00:00:00+09:00",
        "files": [{"name": "events.csv", "sha256": hashlib.sha256(body).hexdigest(), "rows": 1}],
        "created_at": "2026-11-02T04:30:00+09:00",
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_ingestion_dag_loads_per_partner_announces_the_ready_feeds_and_the_list_is_unchanged(
    tiny: Path, database_url: str, airflow_template: Path, tmp_path: Path
):
    with (tiny / "partners.yaml").open("a", encoding="utf-8") as registry:
        registry.write(GAS)  # a second partner that sends nothing: missing, then declared late
    deliver_uncollected(tiny)
    reference = tmp_path / "reference"
    shutil.copytree(tiny, reference)
    reports = run_dags(
        tiny,
        airflow_template,
        [
            {"dag_id": "mimamori_ingest", "logical_date": "2026-11-02T05:00:00+09:00"},
            {"dag_id": "mimamori_ingest", "logical_date": "2026-11-02T06:20:00+09:00"},
            {"dag_id": "mimamori_ingest", "logical_date": "2026-11-02T06:40:00+09:00"},
            {"dag_id": "mimamori_daily", "logical_date": "2026-11-02T06:30:00+09:00"},
        ],
        MIMAMORI_DATABASE_URL=database_url,
    )
    first, late, after, day = reports
    assert first["tasks"]["ingest_partner[0]"] == first["tasks"]["ingest_partner[1]"] == "success"
    assert first["tasks"]["feeds_complete"] == "success" and first["tasks"]["announce"] == "skipped"
    assert late["tasks"]["announce"] == "success"  # the gas feed is past its due time: declared late
    assert after["tasks"]["announce"] == "skipped"  # announced once per day
    assert set(day["tasks"].values()) == {"success"}

    with session_scope(database_url) as session:
        runs = list(session.execute(select(PipelineRun).order_by(PipelineRun.started_at)).scalars())
        loaded = session.execute(select(Delivery).where(Delivery.status == "loaded")).scalars().all()
        signals = session.execute(select(func.count()).select_from(Signal)).scalar_one()
    assert [r.status for r in runs] == ["ingested", "ingested", "ingested", "success"]
    assert sorted((d.partner_id, d.delivery_id, d.run_id) for d in loaded) == [
        ("kanda-coop", "20261102-01", runs[0].run_id),  # the next day's delivery waits for its day
        ("kanda-coop", "20261102-02", runs[0].run_id),
    ]
    assert runs[0].summary["ingest:kanda-coop"]["rows_loaded"] == signals == 2
    assert runs[1].summary["ingest:kanda-coop"]["deliveries"] == {}  # a rerun changes nothing
    assert runs[3].summary["ingest"]["deliveries"] == {}  # the daily run finds it already loaded
    assert runs[3].summary["assess_feeds"] == {"kanda-coop": "on_time", "tokai-gas": "missing"}

    events = metadata(
        tiny,
        "SELECT a.uri, e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id ORDER BY e.id",
    )
    assert [(uri, json.loads(extra)) for uri, extra in events] == [
        ("mimamori://feeds/kanda-coop", {"rows_loaded": 2}),
        ("mimamori://feeds/ready", {"run_date": "2026-11-02"}),
    ]
    text = "\n".join(str(v) for (v,) in metadata(tiny, "SELECT value FROM xcom"))
    text += "\n".join(p.read_text(errors="replace") for p in (tiny / "airflow").rglob("*.log"))
    assert "rows_loaded" in text and [i for i in IDENTIFIERS if i in text] == []

    # The same day run by the daily run alone publishes the same list.
    env = {k: v for k, v in os.environ.items() if k not in DEPLOYMENT_VARIABLES}
    alone = subprocess.run(
        [CLI, "run", "--date", "2026-11-02"],
        env={**env, "MIMAMORI_HOME": str(reference)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert alone.returncode == 0, alone.stderr[-2000:]
    published = entries(tiny / "outbox" / "2026-11-02")
    assert [e[:3] for e in published] == [("D01", "0000000001", "high")]
    assert published == entries(reference / "outbox" / "2026-11-02")


def count(url: str, model: type, *where: object) -> int:
    with session_scope(url) as session:
        return int(session.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def audited(url: str, action: str) -> list[dict]:
    with session_scope(url) as session:
        records = session.execute(select(AuditRecord).where(AuditRecord.action == action)).scalars()
        return [{"subject": r.subject, **r.detail} for r in records]


def prefixes(url: str) -> set[str]:
    with session_scope(url) as session:
        residents = [s.resident for s in session.execute(select(Signal)).scalars()]
        residents += [v.resident for v in session.execute(select(IdentityVault)).scalars()]
    return {r.split(":")[0] for r in residents}


def test_consent_purge_retention_and_key_rotation_dags(
    tiny: Path, database_url: str, airflow_template: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("MIMAMORI_DATABASE_URL", database_url)
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    steward_commands.link_decide(1, accept=True)  # Ichiro's held rows load on the next day
    daily.run_day(RunContext.from_environment(), "2026-11-03")
    signals = count(database_url, Signal)
    cutoff = daily.parse_run_date("2026-11-02")
    old = count(database_url, Signal, Signal.event_start < cutoff)
    assert signals > old > 0
    (tiny / "consents" / "consents_20261104.csv").write_text(
        ",".join(COLUMNS)  # the header (the first form was sealed away once imported)
        + "\n0000000001,C-1,*,*,watch_over,2026-01-01,2027-12-31,2026-11-04,paper,P-1,,\n",
        encoding="utf-8",
    )
    reports = run_dags(
        tiny,
        airflow_template,
        [
            {"dag_id": "mimamori_retention", "logical_date": "2026-11-04T03:00:00+09:00"},
            {
                "dag_id": "mimamori_retention",
                "logical_date": "2026-11-04T03:10:00+09:00",
                "conf": {"signal_days": 2},
            },
            {"dag_id": "mimamori_consents", "logical_date": "2026-11-04T05:00:00+09:00"},
            {"dag_id": "mimamori_purge", "logical_date": "2026-11-04T05:30:00+09:00"},
            {"dag_id": "mimamori_key_rotation", "logical_date": "2026-11-04T12:00:00+09:00"},
            {
                "dag_id": "mimamori_key_rotation",
                "logical_date": "2026-11-04T12:05:00+09:00",
                "conf": {"key": "vault"},
            },
        ],
    )
    assert all(set(r["tasks"].values()) == {"success"} for r in reports), reports
    query = "SELECT dag_id, value FROM xcom WHERE key = 'return_value' AND task_id != 'run_date'"
    query += " ORDER BY timestamp"
    returned = [(dag_id, json.loads(value)) for dag_id, value in metadata(tiny, query)]
    expire_default, expire_two_days = (v for d, v in returned if d == "mimamori_retention")
    assert expire_default["signals"] == 0 and expire_default["provision_records"] == 0
    assert expire_two_days["signals"] == old and expire_two_days["provision_records"] == 0
    (imported,) = (v for d, v in returned if d == "mimamori_consents")
    (purged,) = (v for d, v in returned if d == "mimamori_purge")
    assert imported["added"] == 1 and imported["refused"] == 0
    assert purged["residents"] == 1 and purged["signals"] > 0

    # retention: nothing is 90 days old; a two-day window deletes exactly the older signals, audited
    assert audited(database_url, "retention") == [
        {"subject": "signals", "before": "2026-11-02T00:00:00", "deleted": old}
    ]
    # consent import and purge: the withdrawal is a new version, then Hanako is purged with a tombstone
    with session_scope(database_url) as session:
        tombstone = session.get(ConsentTombstone, "C-1")
        remaining = session.execute(select(ConsentRecord.consent_id)).scalars().all()
        assert tombstone is not None and tombstone.reason == "withdrawn"
        gone = tombstone.resident
        assert session.get(KeyState, "pseudonym").active_key_id == "k2"
        vault_keys = set(session.execute(select(IdentityVault.key_id)).scalars())
    assert set(remaining) == {"C-2"}
    # the purge record names the pseudonym of its day (k1): the log is append-only; the tombstone was re-keyed
    assert [p["subject"].split(":")[0] for p in audited(database_url, "purge")] == ["k1"]
    assert gone.startswith("k2:")
    # key rotation: every pseudonym re-keyed to k2 (the purged one is gone, not re-keyed), vault under v2
    assert prefixes(database_url) == {"k2"}
    assert count(database_url, Signal) == signals - old - purged["signals"] and vault_keys == {"v2"}
    rotations = audited(database_url, "key_rotation")
    assert [(r["subject"], r.get("to_key")) for r in rotations] == [("pseudonym", "k2"), ("vault", "v2")]
    assert rotations[0]["residents"] == count(database_url, IdentityVault) == 1
    ok, message = commands.audit_verify()
    assert ok, message


def test_the_hub_runs_each_municipality_in_its_own_home_with_its_own_settings(
    tiny: Path, database_url: str, airflow_template: Path, tmp_path: Path
):
    hub = tmp_path / "hub"
    shutil.copytree(tiny, hub / "midori")
    shutil.copytree(tiny, hub / "aoba")
    deliver_uncollected(hub / "midori")  # only Midori's resident has a worrying day
    place = hub / "aoba" / "municipality.yaml"
    place.write_text(place.read_text(encoding="utf-8").replace("149999", "148888"), encoding="utf-8")
    (hub / "hub.yaml").write_text(
        "municipalities:\n"
        "  - code: '149999'\n    home: midori\n    env: {MIMAMORI_DATABASE_URL: HUB_MIDORI_DATABASE_URL}\n"
        "  - code: '148888'\n    home: aoba\n",
        encoding="utf-8",
    )
    (report,) = run_dags(
        tiny,
        airflow_template,
        [
            {
                "dag_id": "mimamori_hub",
                "logical_date": "2026-11-02T06:30:00+09:00",
                "conf": {"hub_config": str(hub / "hub.yaml")},
            }
        ],
        HUB_MIDORI_DATABASE_URL=database_url,
    )
    assert report["tasks"] == {
        "run_date": "success",
        "municipalities": "success",
        "run_municipality[0]": "success",
        "run_municipality[1]": "success",
    }
    urls = {"midori": database_url, "aoba": f"sqlite:///{hub / 'aoba' / 'warehouse.db'}"}
    assert not (hub / "midori" / "warehouse.db").exists()
    for name, url in urls.items():
        with session_scope(url) as session:
            (run,) = session.execute(select(PipelineRun)).scalars()
        assert run.status == "success" and run.dag_run_id == report["run_id"]
        assert run.summary["ingest"]["rows_loaded"] == count(url, Signal) == (2 if name == "midori" else 1)
    assert [e[:3] for e in entries(hub / "midori" / "outbox" / "2026-11-02")] == [
        ("D01", "0000000001", "high")
    ]
    assert (hub / "aoba" / "outbox" / "2026-11-02" / "D01.json").exists()
    assert entries(hub / "aoba" / "outbox" / "2026-11-02") == []
    keys = {(hub / name / "keys" / "pseudonym.key").read_text() for name in urls}
    assert len(keys) == 2  # each municipality its own keys
    assert not (tiny / "warehouse.db").exists() and not (tiny / "outbox").exists()
    returned = [
        json.loads(v)
        for (v,) in metadata(
            tiny, "SELECT value FROM xcom WHERE task_id = 'run_municipality' AND key = 'return_value'"
        )
    ]
    assert sorted(r["code"] for r in returned) == ["148888", "149999"]


# The daily DAG's first task as the scheduler calls it for a run started by the ready-feeds asset event:
# no logical date, the announced day in the event's extra, and a run_after on the next morning.
ASSET_TRIGGERED = r"""
import datetime as dt, importlib.util, os, sys, types
from pathlib import Path
path = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]) / "mimamori_daily.py"
spec = importlib.util.spec_from_file_location("mimamori_daily_dag", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
open_run = module.daily_dag.get_task("open_run").python_callable
print(open_run(
    params={"run_date": None},
    logical_date=None,
    run_id="asset_triggered__2026-11-02T21:10:00+00:00",
    dag_run=types.SimpleNamespace(run_after=dt.datetime(2026, 11, 2, 21, 10, tzinfo=dt.UTC)),
    triggering_asset_events={module.FEEDS_READY: [types.SimpleNamespace(extra={"run_date": "2026-11-02"})]},
))
"""


def test_a_daily_run_started_by_the_ready_feeds_works_on_the_announced_day(tiny: Path, database_url: str):
    env = {**airflow_env(tiny), "MIMAMORI_DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-c", ASSET_TRIGGERED], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with session_scope(database_url) as session:
        run = session.get(PipelineRun, done.stdout.strip().splitlines()[-1])
        assert run is not None
        assert (str(run.run_date), run.dag_run_id) == (
            "2026-11-02",
            "asset_triggered__2026-11-02T21:10:00+00:00",
        )
