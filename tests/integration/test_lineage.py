"""Lineage of a small synthetic town run in process: OpenLineage events and `mimamori audit lineage`.

Every emitted event validates against the vendored OpenLineage schema, carries no identifier, and names
the deliveries (with the manifest's checksums), tables and published lists; the chain of a list entry
leads from its rules through signals and deliveries to consents, the run and the code version.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openlineage_schema import needs_spec, problems

from identity.register import newest_extract, read_extract
from lineage import events as lineage_events
from mimamori import daily
from mimamori.cli import pipeline as commands
from mimamori.context import RunContext
from mimamori.settings import DEPLOYMENT_VARIABLES, load_settings
from mimamori_demo.town import generate_town
from warehouse.errors import NotFoundError

pytestmark = pytest.mark.integration
STEPS = ("prepare", "ingest", "assess_feeds", "build", "publish")


@dataclass
class RunTown:
    """A town home after its days were run in process, with each day's run id."""

    home: Path
    dates: list[str]
    runs: dict[str, str]
    manifests: dict[str, dict[str, Any]]  # as delivered, by partner/delivery

    def events(self) -> list[dict[str, Any]]:
        return lineage_events.read_events(self.home / "lineage" / "events.jsonl")

    def query(self, sql: str, *args: object) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.home / "warehouse.db") as db:
            return db.execute(sql, args).fetchall()


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunTown]:
    """150 residents, three days, each run in process with the embedded defaults."""
    home = tmp_path_factory.mktemp("lineage") / "home"
    with pytest.MonkeyPatch.context() as patch:
        for name in DEPLOYMENT_VARIABLES:
            patch.delenv(name, raising=False)
        patch.setenv("MIMAMORI_HOME", str(home))
        patch.setenv("MIMAMORI_ACTOR", "lineage-tester")
        summary = generate_town(home, residents=150, days=3, seed=5)
        manifests = {
            f"{path.parent.parent.name}/{path.parent.name}": json.loads(path.read_text(encoding="utf-8"))
            for path in (home / "inbox").glob("*/*/manifest.json")
        }
        runs = {day: daily.run_day(RunContext.from_environment(), day)["run_id"] for day in summary.run_dates}
        yield RunTown(home, summary.run_dates, runs, manifests)


def by_run(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        grouped[event["run"]["runId"]].append(event)
    return grouped


def completed(town: RunTown, day: str, step: str) -> dict[str, Any]:
    run_id = lineage_events.step_run_id(town.runs[day], lineage_events.step_job(step))
    [event] = [e for e in by_run(town.events())[run_id] if e["eventType"] == "COMPLETE"]
    return event


@needs_spec
def test_every_event_of_the_runs_validates_against_the_vendored_schema(town: RunTown):
    events = town.events()
    assert len(events) == len(town.dates) * 2 * (1 + len(STEPS))
    for event in events:
        assert problems(event) == [], (event["job"]["name"], event["eventType"])


@needs_spec
def test_the_schema_check_catches_a_broken_event(town: RunTown):
    event = completed(town, town.dates[0], "ingest")
    assert problems(event) == []
    no_run_id = json.loads(json.dumps(event))
    del no_run_id["run"]["runId"]
    assert problems(no_run_id)
    bad_assertion = json.loads(json.dumps(event))
    dq = bad_assertion["inputs"][0]["inputFacets"]["dataQualityAssertions"]
    dq["assertions"][0]["success"] = "yes"
    assert any("dataQualityAssertions" in p for p in problems(bad_assertion))
    misplaced = json.loads(json.dumps(event))
    facets = misplaced["inputs"][0]["facets"]
    facets["columns"] = facets.pop("schema")
    assert any("go under" in p for p in problems(misplaced))


def test_each_run_and_step_starts_and_completes_under_its_parent(town: RunTown):
    runs = by_run(town.events())
    for day, run_id in town.runs.items():
        assert [e["eventType"] for e in runs[run_id]] == ["START", "COMPLETE"]
        assert {e["job"]["name"] for e in runs[run_id]} == {"daily_run"}
        tags = {t["key"]: t["value"] for t in runs[run_id][-1]["run"]["facets"]["tags"]["tags"]}
        assert tags["run_date"] == day and tags["code_version"] == daily.code_version()
        for step in STEPS:
            step_id = lineage_events.step_run_id(run_id, f"daily_run.{step}")
            events = runs[step_id]
            assert [e["eventType"] for e in events] == ["START", "COMPLETE"], step
            for event in events:
                assert event["job"]["name"] == f"daily_run.{step}"
                parent = event["run"]["facets"]["parent"]
                assert parent["run"]["runId"] == run_id and parent["job"]["name"] == "daily_run"
                assert event["job"]["namespace"] == parent["job"]["namespace"] == "mimamori/149999"


def delivery_manifest(town: RunTown, partner: str, delivery: str) -> dict[str, Any]:
    """A delivery's manifest as the partner sent it (loaded folders leave the inbox for the archive)."""
    return dict(town.manifests[f"{partner}/{delivery}"])


def test_ingest_reads_each_delivery_with_the_manifests_checksums_and_the_verdict(town: RunTown):
    day = town.dates[0]
    event = completed(town, day, "ingest")
    deliveries = {
        (partner, delivery): status
        for partner, delivery, status in town.query(
            "SELECT partner_id, delivery_id, status FROM deliveries WHERE run_id = ?", town.runs[day]
        )
    }
    inputs = [d for d in event["inputs"] if "mimamori_delivery" in d["facets"]]
    assert len(deliveries) >= 5 and len(inputs) == len(deliveries)
    for dataset in inputs:
        facet = dataset["facets"]["mimamori_delivery"]
        folder = Path(dataset["name"])
        assert folder == town.home / "inbox" / facet["partner"] / facet["deliveryId"]
        assert deliveries[(facet["partner"], facet["deliveryId"])] == facet["status"]
        manifest = delivery_manifest(town, facet["partner"], facet["deliveryId"])
        expected = [{"name": f["name"], "sha256": f["sha256"], "rows": f["rows"]} for f in manifest["files"]]
        assert facet["files"] == expected
        if len(expected) == 1:
            assert dataset["facets"]["version"]["datasetVersion"] == expected[0]["sha256"]
        assert dataset["inputFacets"]["inputStatistics"]["rowCount"] == sum(f["rows"] for f in expected)
        fields = [f["name"] for f in dataset["facets"]["schema"]["fields"]]
        assert "resident" in fields and "name_kana" not in fields
        if facet["status"] not in ("loaded", "quarantined"):  # never validated: refused before reading
            assert "dataQualityAssertions" not in dataset["inputFacets"]
            continue
        assertions = dataset["inputFacets"]["dataQualityAssertions"]["assertions"]
        assert {"assertion", "name", "success"} <= set(assertions[0])
        assert all(set(a) <= {"assertion", "name", "success", "column"} for a in assertions)
        named = {a["name"]: a["success"] for a in assertions}
        assert named["expect_column_values_to_not_be_null(resident)"] is True
        assert all(named.values()) == (facet["status"] == "loaded")


def test_outputs_are_the_tables_written_and_the_published_lists(town: RunTown):
    day = town.dates[-1]
    ingest = completed(town, day, "ingest")
    signals = next(d for d in ingest["outputs"] if d["name"] == "main.signals")
    [(loaded,)] = town.query("SELECT summary FROM pipeline_runs WHERE run_id = ?", town.runs[day])
    assert (
        signals["outputFacets"]["outputStatistics"]["rowCount"] == json.loads(loaded)["ingest"]["rows_loaded"]
    )
    assert signals["namespace"] == f"sqlite://{town.home / 'warehouse.db'}"
    assert {"resident", "event_type", "delivery_pk"} <= {
        f["name"] for f in signals["facets"]["schema"]["fields"]
    }
    build = completed(town, day, "build")
    entries = next(d for d in build["outputs"] if d["name"] == "main.watchlist_entries")
    [(count,)] = town.query("SELECT count(*) FROM watchlist_entries WHERE run_date = ?", day)
    assert entries["outputFacets"]["outputStatistics"]["rowCount"] == count
    publish = completed(town, day, "publish")
    published = {Path(d["name"]): d for d in publish["outputs"] if d["namespace"] == "file"}
    assert set(published) == set((town.home / "outbox" / day).iterdir())
    for path, dataset in published.items():
        from lineage.datasets import sha256_file

        assert dataset["facets"]["version"]["datasetVersion"] == sha256_file(path)
    for when in town.dates:  # a consent form is read on the day it is imported, then kept sealed only
        prepare = completed(town, when, "prepare")
        read = [Path(d["name"]) for d in prepare["inputs"] if d["namespace"] == "file"]
        imported = town.query("SELECT name FROM consent_forms WHERE imported_on = ?", when)
        assert {p.parent.name for p in read} == ({"register", "consents"} if imported else {"register"})
        assert sorted(p.name for p in read if p.parent.name == "consents") == sorted(n for (n,) in imported)


def identifiers(home: Path, day: str) -> set[str]:
    """Every identifier of every resident of the town (resident ids included), spaces removed."""
    register = read_extract(newest_extract(home / "register", dt.date.fromisoformat(day)))
    found = set()
    for r in register.itertuples():
        found |= {
            r.resident_id,
            r.name_kana.replace("\u3000", ""),
            r.name_kanji.replace("\u3000", ""),
            r.address.split("\u3000")[0],
            re.sub(r"\D", "", r.phone),
            r.birth_date,
        }
    return {value for value in found if len(value) >= 4}


def test_no_identifier_or_pseudonym_in_any_event(town: RunTown):
    # as the events say it (the client's file transport escapes what is not ASCII)
    text = json.dumps(town.events(), ensure_ascii=False).replace("\u3000", "")
    people = identifiers(town.home, town.dates[-1])
    assert len(people) > 500
    assert [value for value in people if value in text] == []
    pseudonyms = {r for (r,) in town.query("SELECT DISTINCT resident FROM signals")}
    assert pseudonyms and [p for p in pseudonyms if p in text] == []


def test_audit_lineage_shows_every_link_of_an_entry(town: RunTown, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MIMAMORI_HOME", str(town.home))
    day = town.dates[-1]
    entry_id, resident, run_id = town.query(
        "SELECT entry_id, resident, run_id FROM watchlist_entries WHERE run_date = ? ORDER BY score DESC",
        day,
    )[0]
    text = commands.lineage(entry_id)
    lines = text.splitlines()
    assert lines[0].startswith(f"リスト項目 / entry {entry_id}")
    for rule_id, version in town.query(
        "SELECT rule_id, rule_version FROM watchlist_reasons WHERE entry_id = ?", entry_id
    ):
        assert f"ルール / rule {rule_id} v{version} " in text
    signal_lines = [line for line in lines if line.lstrip().startswith("信号 / signals")]
    assert signal_lines
    deliveries = town.query(
        "SELECT d.partner_id, d.delivery_id, d.received_at FROM deliveries d JOIN lineage_links l "
        "ON l.kind = 'delivery' AND l.ref = CAST(d.id AS TEXT) WHERE l.entry_id = ?",
        entry_id,
    )
    assert deliveries
    for partner, delivery, received in deliveries:
        assert f"配信 / delivery {partner}/{delivery}  受信 received {received[:16]} UTC" in text
        manifest = delivery_manifest(town, partner, delivery)
        for f in manifest["files"]:
            assert f"ファイル / file {f['name']}  行数 rows {f['rows']}  sha256 {f['sha256']}" in text
    for line in signal_lines:
        source = re.search(r"配信 delivery (\S+)/(\S+) ← 同意 consent (\S+)$", line)
        assert source and (source[1], source[2]) in {(p, d) for p, d, _ in deliveries}
        assert f"同意 / consent {source[3]} v" in text
    consents = {
        c for (c,) in town.query("SELECT consent_id FROM consent_records WHERE resident = ?", resident)
    }
    assert consents and any(f"同意 / consent {c} v" in text for c in consents)
    [(dag_run, code)] = town.query(
        "SELECT dag_run_id, code_version FROM pipeline_runs WHERE run_id = ?", run_id
    )
    assert dag_run is None
    assert f"実行 / run {run_id}  DAG実行 / DAG run (なし / in process)  コード版 / code {code}" in text
    assert resident not in text


def test_an_unknown_entry_is_one_clear_error(town: RunTown, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MIMAMORI_HOME", str(town.home))
    with pytest.raises(NotFoundError, match="no list entry WL-19000101-0000000000"):
        commands.lineage("WL-19000101-0000000000")
    cli = Path(sys.executable).with_name("mimamori")
    result = subprocess.run(
        [str(cli), "audit", "lineage", "WL-19000101-0000000000"],
        env={**os.environ, "MIMAMORI_HOME": str(town.home)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.strip().splitlines() == ["エラー / error: no list entry WL-19000101-0000000000"]


@needs_spec
def test_a_failing_step_under_airflow_emits_fail_for_the_step_and_the_run(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
):
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the rules could not be combined")

    monkeypatch.setattr(daily, "build_watchlist", broken)
    dag_run = "manual__2026-11-02T06:30:00+09:00"
    monkeypatch.setenv("AIRFLOW_CTX_DAG_ID", "mimamori_hub")  # as Airflow exports it to a running task
    monkeypatch.setenv("AIRFLOW_CTX_DAG_RUN_ID", dag_run)
    with lineage_events.redirected(lineage_events.MemoryTransport()) as memory:
        run_id = daily.open_run(RunContext.from_environment(), "2026-11-02", dag_run_id=dag_run)
        for step in (daily.prepare, daily.ingest, daily.assess_feeds):
            step(RunContext.from_environment(), run_id)
        with pytest.raises(RuntimeError):
            daily.build(RunContext.from_environment(), run_id)
        daily.fail_run(RunContext.from_environment(), run_id, "RuntimeError: the rules could not be combined")
    events = memory.events
    assert not (load_settings().home / "lineage" / "events.jsonl").exists()
    assert [e["eventType"] for e in events if e["job"]["name"] == "daily_run.build"] == ["START", "FAIL"]
    assert [e["eventType"] for e in events if e["job"]["name"] == "daily_run"] == ["START", "FAIL"]
    for event in events:
        assert problems(event) == []
    dag_run_uuid = lineage_events.dag_run_uuid(dag_run, "mimamori_hub")
    failed_run = events[-1]["run"]["facets"]
    assert failed_run["errorMessage"]["message"] == "RuntimeError: the rules could not be combined"
    assert failed_run["parent"]["run"]["runId"] == dag_run_uuid
    assert failed_run["parent"]["job"] == {"namespace": "airflow", "name": "mimamori_hub"}
    assert {"key": "airflow.dag_run_id", "value": dag_run, "source": "AIRFLOW"} in failed_run["tags"]["tags"]
    failed_step = next(
        e for e in events if e["eventType"] == "FAIL" and e["job"]["name"] == "daily_run.build"
    )
    assert failed_step["run"]["facets"]["parent"]["root"]["run"]["runId"] == dag_run_uuid
    assert failed_step["run"]["facets"]["parent"]["run"]["runId"] == run_id


def test_assertions_name_every_expectation_and_mark_the_failed_ones():
    from lineage.datasets import assertions, suite_expectations
    from warehouse.models import ValidationResult

    failed = ["expect_column_values_to_be_in_set(event_type)", "expect_column_values_to_be_null(value)"]
    result = ValidationResult(suite="mimamori_delivery", success=False, evaluated=13, failed=failed)
    found = assertions(result)
    assert len(found) == len(suite_expectations("delivery")) == len({a["name"] for a in found})
    assert sorted(a["name"] for a in found if not a["success"]) == failed
    assert {
        "assertion": "expect_column_values_to_be_null",
        "name": failed[1],
        "success": False,
        "column": "value",
    } in found


@needs_spec
def test_an_ingestion_pass_has_one_step_per_partner_and_completes(tiny: Path):
    from mimamori import jobs

    with lineage_events.redirected(lineage_events.MemoryTransport()) as memory:
        run_id = jobs.open_ingest("2026-11-02")
        daily.prepare(RunContext.from_environment(), run_id)
        for partner in jobs.partner_ids():
            jobs.ingest_partner(run_id, partner)
        jobs.close_ingest(run_id)
    assert [(e["job"]["name"], e["eventType"]) for e in memory.events] == [
        ("daily_run", "START"),
        ("daily_run.prepare", "START"),
        ("daily_run.prepare", "COMPLETE"),
        ("daily_run.ingest.kanda-coop", "START"),
        ("daily_run.ingest.kanda-coop", "COMPLETE"),
        ("daily_run", "COMPLETE"),
    ]
    assert [p for e in memory.events for p in problems(e)] == []
    ingest = memory.events[4]
    assert ingest["run"]["runId"] == lineage_events.step_run_id(run_id, "daily_run.ingest.kanda-coop")
    delivered = [
        d["facets"]["mimamori_delivery"] for d in ingest["inputs"] if "mimamori_delivery" in d["facets"]
    ]
    assert [(d["partner"], d["deliveryId"], d["status"]) for d in delivered] == [
        ("kanda-coop", "20261102-01", "loaded")
    ]


def test_the_chain_says_when_signals_are_no_longer_kept(town: RunTown):
    from sqlalchemy import delete
    from sqlalchemy.orm import Session

    from lineage import entry as audit_lineage
    from warehouse.db import engine_for
    from warehouse.models import Signal
    from watchlist.rules import load_rules

    day = town.dates[-1]
    entry_id, resident = town.query(
        "SELECT entry_id, resident FROM watchlist_entries WHERE run_date = ? ORDER BY score DESC", day
    )[0]
    with Session(engine_for(f"sqlite:///{town.home / 'warehouse.db'}")) as session:
        kept = audit_lineage.render(audit_lineage.chain(session, entry_id, load_rules(town.home)), "ns")
        session.execute(delete(Signal).where(Signal.resident == resident))  # as retention would
        gone = audit_lineage.render(audit_lineage.chain(session, entry_id, load_rules(town.home)), "ns")
        session.rollback()
    assert "no longer kept" not in kept and "信号 / signals" in kept
    assert "no longer kept" in gone and "← 配信 delivery" not in gone
    deliveries_and_consents = [
        line for line in kept.splitlines() if "配信 / delivery" in line or "同意 / consent" in line
    ]
    assert deliveries_and_consents and all(line in gone.splitlines() for line in deliveries_and_consents)


def test_a_transport_that_fails_never_stops_the_run(tiny: Path, caplog: pytest.LogCaptureFixture):
    class Broken:
        def emit(self, event: dict[str, Any]) -> None:
            raise OSError("disk full")

    with lineage_events.redirected(Broken()):
        summary = daily.run_day(RunContext.from_environment(), "2026-11-02")
    assert summary["ingest"]["deliveries"] == {"loaded": 1}
    lost = [r.getMessage() for r in caplog.records if r.name == "lineage.events"]
    assert len(lost) == 2 * (1 + len(STEPS)) and all(m.endswith("OSError: disk full") for m in lost)
