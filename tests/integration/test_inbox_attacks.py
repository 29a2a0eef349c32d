"""Attacks on the inbox: links, odd files, impossible times, replays, swaps while reading, one failing.

One small town (two districts, three partners) lives for the whole module: every attack is put in the
inbox beside valid deliveries, a few days are run once, and each test checks what was recorded for its
delivery. A delivery that is refused or quarantined must never cost another delivery or a district its list.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import socket
import stat
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from connectors import check_delivery
from connectors.registry import load_registry
from ingest import load as ingest
from mimamori import daily
from mimamori.cli import steward as steward_commands
from mimamori.context import RunContext
from mimamori.settings import DEPLOYMENT_VARIABLES, load_settings
from warehouse.db import session_scope
from warehouse.errors import MimamoriError
from warehouse.models import Delivery, DeliveryCount, LineageLink, Signal

pytestmark = pytest.mark.integration

POSTGRES = os.environ.get("MIMAMORI_TEST_DATABASE", "sqlite") == "postgresql"
REGISTER = (
    "resident_id,name_kanji,name_kana,birth_date,sex,address,district_code,household_id,household_size,phone,"
    "status,status_date\n"
    "0000000001,山田　花子,ヤマダ　ハナコ,1940-03-02,F,神奈川県みどり市本町1丁目2番3号,"
    "D01,H1,1,046-111-2222,active,2000-01-01\n"
    "0000000002,鈴木　一郎,スズキ　イチロウ,1938-05-06,M,神奈川県みどり市栄町4丁目5番6号,"
    "D01,H2,1,046-333-4444,active,2000-01-01\n"
    "0000000003,佐藤　三郎,サトウ　サブロウ,1941-07-08,M,神奈川県みどり市緑町7丁目8番9号,"
    "D02,H3,1,046-555-6666,active,2000-01-01\n"
)
CONSENTS = (
    "resident_id,consent_id,scope_partners,scope_sectors,purpose,granted_on,expires_on,withdrawn_on,method,"
    "evidence_ref,proxy_name,proxy_relation\n"
    + "".join(f"000000000{n},C-{n},*,*,watch_over,2026-01-01,2027-12-31,,paper,P-{n},,\n" for n in (1, 2, 3))
)
PARTNERS = "".join(
    f"  - id: {pid}\n    name: {name}\n    sector: delivery\n    encoding: {enc}\n    due_by: '06:00'\n"
    f"    agreement: {{ref: {ref}, valid_from: 2025-04-01, valid_to: 2028-03-31}}\n"
    "    codes: {受渡済: handed_over, 不在: no_answer}\n"
    for pid, name, enc, ref in (
        ("kanda-coop", "かんだ生協", "cp932", "K-1"),
        ("hikari-bento", "ひかり配食", "utf-8", "H-1"),
        ("mori-news", "森新聞", "utf-8", "M-1"),
    )
)
HEADER = "partner_customer_id,name_kana,name_kanji,birth_date,address,phone,event_time,event_type\n"
HANAKO = "KC1,ﾔﾏﾀﾞ ﾊﾅｺ,山田花子,19400302,本町1-2-3,,{t},{e}\n"
ICHIRO = "KC2,ｽｽﾞｷ ｲﾁﾛｳ,鈴木一郎,19380506,栄町4-5-6,,{t},{e}\n"
SABURO = "HB3,サトウ サブロウ,佐藤三郎,19410708,緑町7-8-9,,{t},{e}\n"
# What every day's co-op file holds: Hanako seen, Ichiro not answering twice.
DAY1 = (
    HEADER
    + HANAKO.format(t="2026-11-01T10:00:00", e="受渡済")
    + ICHIRO.format(t="2026-11-01T11:00:00", e="不在")
    + ICHIRO.format(t="2026-11-01T15:00:00", e="不在")
)
OUTSIDE_ROW = HEADER + HANAKO.format(t="2026-11-01T08:08:00", e="受渡済")
PERIODS = {
    "2026-11-02": ("2026-11-01T00:00:00+09:00", "2026-11-02T00:00:00+09:00"),
    "2026-11-03": ("2026-11-02T00:00:00+09:00", "2026-11-03T00:00:00+09:00"),
    "2026-11-04": ("2026-11-03T00:00:00+09:00", "2026-11-04T00:00:00+09:00"),
}


def cp932(body: str) -> bytes:
    return body.encode("cp932")


def manifest(
    partner: str, delivery_id: str, files: dict[str, bytes], run: str, **extra: Any
) -> dict[str, Any]:
    start, end = PERIODS[run]
    return {
        "spec_version": "1",
        "partner_id": partner,
        "sector": "delivery",
        "delivery_id": delivery_id,
        "period_start": start,
        "period_end": end,
        "files": [
            {"name": n, "sha256": hashlib.sha256(b).hexdigest(), "rows": b.count(b"\n") - 1}
            for n, b in files.items()
        ],
        "created_at": end,
        **extra,
    }


def put(folder: Path, files: dict[str, bytes], run: str, **extra: Any) -> Path:
    """A delivery folder with these files and a manifest listing them (`extra` overrides manifest fields)."""
    folder.mkdir(parents=True)
    for name, body in files.items():
        (folder / name).write_bytes(body)
    body = manifest(folder.parent.name, folder.name, files, run, **extra)
    (folder / "manifest.json").write_text(json.dumps(body), encoding="utf-8")
    return folder


@dataclass
class Town:
    """The module's town after its days were run: where it lives and what each day returned or raised."""

    home: Path
    outside: Path
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    released_modes: dict[str, int] = field(default_factory=dict)

    def delivery(self, ref: str) -> Delivery:
        partner, _, delivery_id = ref.partition("/")
        with session_scope(load_settings().database_url) as session:
            found = session.execute(
                select(Delivery).where(Delivery.partner_id == partner, Delivery.delivery_id == delivery_id)
            ).scalar_one_or_none()
        assert found is not None, f"{ref} was not recorded"
        return found

    def counts(self, ref: str) -> dict[tuple[str, str], int]:
        pk = self.delivery(ref).id
        with session_scope(load_settings().database_url) as session:
            rows = session.execute(select(DeliveryCount).where(DeliveryCount.delivery_pk == pk)).scalars()
            return {(c.stage, c.reason): c.count for c in rows}

    def signals(self, **where: Any) -> list[Signal]:
        with session_scope(load_settings().database_url) as session:
            query = select(Signal).where(*(getattr(Signal, k) == v for k, v in where.items()))
            return list(session.execute(query).scalars())

    def run(self, day: str) -> None:
        try:
            self.results[day] = daily.run_day(RunContext.from_environment(), day)
        except Exception as problem:  # kept to be asserted on, so one stage's crash shows in every test
            self.errors[day] = f"{type(problem).__name__}: {problem}"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Path]:
    """One data home for the module (on PostgreSQL too, with MIMAMORI_TEST_DATABASE=postgresql)."""
    root = tmp_path_factory.mktemp("inbox-attacks")
    data_home = root / "home"
    data_home.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        for name in DEPLOYMENT_VARIABLES:
            patch.delenv(name, raising=False)
        patch.setenv("MIMAMORI_HOME", str(data_home))
        patch.setenv("MIMAMORI_ACTOR", "test-steward")
        if not POSTGRES:
            yield data_home
            return
        admin_url = request.getfixturevalue("pg_admin_url")
        name = f"mimamori_test_{uuid.uuid4().hex[:10]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        patch.setenv("MIMAMORI_DATABASE_URL", url)
        try:
            yield data_home
        finally:
            from warehouse.db import engine_for

            engine_for(url).dispose()
            engine_for.cache_clear()
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def _first_day(town: Town) -> None:
    home, outside, run = town.home, town.outside, "2026-11-02"
    kanda, hikari = home / "inbox" / "kanda-coop", home / "inbox" / "hikari-bento"
    put(kanda / "20261102-01", {"events.csv": cp932(DAY1)}, run)
    saburo = HEADER + SABURO.format(t="2026-11-01T12:00:00", e="受渡済")
    put(
        hikari / "20261102-01",
        {"events.csv": (saburo + SABURO.format(t="2026-11-01T18:00:00", e="不在")).encode()},
        run,
    )
    # A file outside the inbox, valid, and a folder outside holding a valid delivery.
    (outside / "events.csv").write_bytes(cp932(OUTSIDE_ROW))
    listed = {"events.csv": cp932(OUTSIDE_ROW)}
    (kanda / "link-file").mkdir()
    (kanda / "link-file" / "events.csv").symlink_to(outside / "events.csv")
    (kanda / "link-file" / "manifest.json").write_text(
        json.dumps(manifest("kanda-coop", "link-file", listed, run))
    )
    key = home / "keys" / "vault.key"
    (kanda / "link-key").mkdir()
    (kanda / "link-key" / "events.csv").symlink_to(key)
    key_manifest = manifest("kanda-coop", "link-key", {"events.csv": key.read_bytes()}, run)
    (kanda / "link-key" / "manifest.json").write_text(json.dumps(key_manifest))
    put(kanda / "key-beside", {"events.csv": cp932(OUTSIDE_ROW)}, run)
    (kanda / "key-beside" / "vault.key").symlink_to(key)
    put(outside / "kanda-coop" / "link-folder", listed, run)
    (kanda / "link-folder").symlink_to(outside / "kanda-coop" / "link-folder")
    put(
        outside / "mori-news" / "20261102-01",
        {"events.csv": cp932(OUTSIDE_ROW).decode("cp932").encode()},
        run,
    )
    (home / "inbox" / "mori-news").symlink_to(outside / "mori-news")
    (kanda / "hardlink").mkdir()
    os.link(outside / "events.csv", kanda / "hardlink" / "events.csv")
    (kanda / "hardlink" / "manifest.json").write_text(
        json.dumps(manifest("kanda-coop", "hardlink", listed, run))
    )
    os.mkfifo(put(kanda / "fifo", listed, run) / "more.csv")
    (put(kanda / "unlisted", listed, run) / "notes.txt").write_text("x")
    (put(kanda / "subfolder", listed, run) / "extra").mkdir()
    bad_times = (
        HEADER
        + HANAKO.format(t="2026-11-01T09:00:00", e="受渡済")
        + HANAKO.format(t="9999-12-31T23:00:00-05:00", e="受渡済")
        + HANAKO.format(t="0001-01-01T00:00:00+10:00", e="受渡済")
        + HANAKO.format(t="2026-11-01T25:00:00", e="受渡済")
    )
    put(kanda / "row-times", {"events.csv": cp932(bad_times)}, run)
    put(kanda / "early-manifest", listed, run, period_start="0001-01-01T00:00:00+10:00")
    put(kanda / "late-manifest", listed, run, period_end="9999-12-31T23:00:00-05:00")
    put(kanda / "bad-manifest", listed, run, period_start="2026-11-31T00:00:00+09:00")
    huge = manifest("kanda-coop", "huge-rows", listed, run)
    huge["files"][0]["rows"] = 10**400
    put(kanda / "huge-rows", listed, run)
    (kanda / "huge-rows" / "manifest.json").write_text(json.dumps(huge).replace("1" + "0" * 400, "1e999"))
    put(kanda / "bad-enc", {"events.csv": OUTSIDE_ROW.encode()}, run)
    town.run(run)


def _second_day(town: Town) -> None:
    home, run = town.home, "2026-11-03"
    kanda, hikari = home / "inbox" / "kanda-coop", home / "inbox" / "hikari-bento"
    # The steward releases the quarantined batch after the partner's folder is gone.
    for path in (kanda / "bad-enc").iterdir():
        path.unlink()
    (kanda / "bad-enc").rmdir()
    try:
        steward_commands.quarantine_release("kanda-coop/bad-enc")
        released = home / "released" / "kanda-coop" / "bad-enc"
        town.released_modes = {
            p.name: stat.S_IMODE(p.stat().st_mode) for p in (released, *released.iterdir())
        }
    except (MimamoriError, OSError) as problem:
        town.errors["release"] = f"{type(problem).__name__}: {problem}"
    put(kanda / "replay-01", {"events.csv": cp932(DAY1)}, run)
    again = DAY1 + ICHIRO.format(t="2026-11-02T11:00:00", e="不在")
    put(kanda / "20261103-01", {"events.csv": cp932(again)}, run)
    fixed = HEADER + SABURO.format(t="2026-11-01T12:00:00", e="受渡済")
    put(hikari / "20261103-01", {"events.csv": fixed.encode()}, run, supersedes="20261102-01")
    put(hikari / "20261103-02", {"events.csv": fixed.encode()}, run, supersedes="never-sent")
    put(
        kanda / "changing-01",
        {"events.csv": cp932(HEADER + HANAKO.format(t="2026-11-02T09:00:00", e="受渡済"))},
        run,
    )
    put(
        kanda / "swapped-01",
        {"events.csv": cp932(HEADER + HANAKO.format(t="2026-11-02T09:30:00", e="受渡済"))},
        run,
    )
    put(
        kanda / "boom-01",
        {"events.csv": cp932(HEADER + HANAKO.format(t="2026-11-02T09:45:00", e="受渡済"))},
        run,
    )
    fix = cp932(HEADER + HANAKO.format(t="2026-11-01T09:05:00", e="受渡済"))
    put(kanda / "fix-boom", {"events.csv": fix}, run, supersedes="row-times")
    checked, canonicalise, load = ingest.check_delivery, ingest.canonicalise, ingest.load_signals

    def check_then_change(folder: Path, partners: Any) -> Any:
        verdict = checked(folder, partners)
        if folder.name == "changing-01":  # rewritten in place after its checksum was taken
            with (folder / "events.csv").open("r+b") as handle:
                handle.seek(len(cp932(HEADER)) + 4)
                handle.write(b"9")
        if folder.name == "swapped-01":  # replaced by a link to the vault key
            (folder / "events.csv").unlink()
            (folder / "events.csv").symlink_to(home / "keys" / "vault.key")
        return verdict

    def explode(frame: Any, partner: Any, manifest: Any, **kwargs: Any) -> Any:
        if manifest.delivery_id == "boom-01":
            raise RuntimeError("unexpected: 山田花子 19400302")
        return canonicalise(frame, partner, manifest, **kwargs)

    def explode_while_loading(session: Any, delivery_pk: int, frame: Any) -> int:
        load(session, delivery_pk, frame)  # half written, then a failure: nothing of it may stay
        if session.get(Delivery, delivery_pk).delivery_id == "fix-boom":
            raise ValueError("unexpected while loading")
        return len(frame)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ingest, "check_delivery", check_then_change)
        patch.setattr(ingest, "canonicalise", explode)
        patch.setattr(ingest, "load_signals", explode_while_loading)
        town.run(run)


def _third_day(town: Town) -> None:
    run = "2026-11-04"
    put(
        town.home / "inbox" / "kanda-coop" / "dbdown-01",
        {"events.csv": cp932(HEADER + HANAKO.format(t="2026-11-03T09:00:00", e="受渡済"))},
        run,
    )
    canonicalise = ingest.canonicalise

    def database_gone(frame: Any, partner: Any, manifest: Any, **kwargs: Any) -> Any:
        if manifest.delivery_id == "dbdown-01":
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))
        return canonicalise(frame, partner, manifest, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ingest, "canonicalise", database_gone)
        town.run(run)


@pytest.fixture(scope="module")
def town(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Town:
    """The town after three days of attacks beside valid deliveries."""
    outside = tmp_path_factory.mktemp("outside")
    (home / "register").mkdir()
    (home / "register" / "register_20261101.csv").write_text(REGISTER, encoding="utf-8")
    (home / "consents").mkdir()
    (home / "consents" / "consents_20261101.csv").write_text(CONSENTS, encoding="utf-8")
    (home / "municipality.yaml").write_text(
        "code: '149999'\nprefecture: 神奈川県\ncity: みどり市\ndistricts: {D01: 北部, D02: 南部}\n",
        encoding="utf-8",
    )
    (home / "partners.yaml").write_text("partners:\n" + PARTNERS, encoding="utf-8")
    load_settings()  # makes the development keys, which the attacks point at
    town = Town(home, outside)
    _first_day(town)
    _second_day(town)
    _third_day(town)
    return town


def _lists(town: Town, day: str) -> dict[str, dict[str, Any]]:
    folder = town.home / "outbox" / day
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("D*.json"))}


def test_every_district_gets_its_list_and_valid_deliveries_load_despite_the_attacks(town: Town):
    for day in ("2026-11-02", "2026-11-03"):
        assert day not in town.errors, town.errors[day]
        assert set(_lists(town, day)) == {"D01", "D02"}
    assert town.delivery("kanda-coop/20261102-01").status == "loaded"
    assert town.delivery("kanda-coop/20261102-01").rows_loaded == 3
    assert town.delivery("hikari-bento/20261103-01").status == "loaded"
    assert town.delivery("kanda-coop/20261103-01").status == "loaded"


@pytest.mark.parametrize(
    ("ref", "words"),
    [
        ("kanda-coop/link-file", "symbolic link"),
        ("kanda-coop/link-key", "symbolic link"),
        ("kanda-coop/key-beside", "symbolic link"),
        ("kanda-coop/link-folder", "symbolic link"),
        ("kanda-coop/hardlink", "hard link"),
        ("kanda-coop/fifo", "FIFO"),
        ("kanda-coop/unlisted", "not listed in the manifest"),
        ("kanda-coop/subfolder", "folder"),
    ],
)
def test_links_and_odd_entries_are_refused_with_a_reason_and_nothing_of_them_is_read(
    town: Town, ref: str, words: str
):
    found = town.delivery(ref)
    assert found.status == "refused" and found.rows_loaded == 0
    assert words in (found.reason or ""), found.reason
    assert " / " in (found.reason or ""), "Japanese first, English after"
    assert not (town.home / "quarantine" / ref).exists(), "nothing of a refused delivery is sealed"


def test_a_symlinked_partner_folder_is_refused_and_none_of_its_deliveries_read(town: Town):
    with session_scope(load_settings().database_url) as session:
        recorded = list(session.execute(select(Delivery).where(Delivery.partner_id == "mori-news")).scalars())
    assert recorded and all(d.status == "refused" and d.rows_loaded == 0 for d in recorded)
    assert any("symbolic link" in (d.reason or "") for d in recorded)
    assert town.signals(partner_id="mori-news") == []


def test_no_row_from_outside_the_inbox_and_no_key_is_ever_loaded_or_sealed(town: Town):
    assert not [s for s in town.signals(partner_id="kanda-coop") if s.event_start.minute == 8]
    key = (town.home / "keys" / "vault.key").read_bytes()
    for path in (town.home / "quarantine").rglob("*"):
        assert "vault.key" not in path.name
    for path in (town.home / "released").rglob("*"):
        assert not path.is_file() or path.read_bytes() != key


def test_a_quarantined_delivery_seals_only_the_files_its_manifest_lists(town: Town):
    sealed = {p.name for p in (town.home / "quarantine" / "kanda-coop" / "bad-enc").iterdir()}
    assert sealed == {"events.csv.sealed", "manifest.json.sealed"}


def test_release_writes_a_steward_only_folder_and_the_next_run_reads_it_from_there(town: Town):
    assert town.released_modes == {"bad-enc": 0o700, "events.csv": 0o600, "manifest.json": 0o600}
    assert not (town.home / "inbox" / "kanda-coop" / "bad-enc").exists(), (
        "never back into the partner's inbox"
    )
    found = town.delivery("kanda-coop/bad-enc")
    assert found.status == "quarantined" and found.run_id == town.results["2026-11-03"]["run_id"]


def test_impossible_row_times_are_rejected_rows_not_a_stopped_morning(town: Town):
    assert town.delivery("kanda-coop/row-times").status == "loaded"
    assert town.counts("kanda-coop/row-times")[("rejected", "bad_timestamp")] == 3


@pytest.mark.parametrize(
    ("ref", "words"),
    [
        ("kanda-coop/early-manifest", "period_start"),
        ("kanda-coop/late-manifest", "period_end"),
        ("kanda-coop/bad-manifest", "period_start"),
        ("kanda-coop/huge-rows", "rows"),
    ],
)
def test_impossible_manifest_values_are_refused_with_the_field_named(town: Town, ref: str, words: str):
    found = town.delivery(ref)
    assert found.status == "refused" and words in (found.reason or ""), found.reason


def test_a_replayed_file_is_refused_naming_the_delivery_that_loaded_it(town: Town):
    found = town.delivery("kanda-coop/replay-01")
    assert found.status == "refused" and "20261102-01" in (found.reason or ""), found.reason
    assert found.rows_loaded == 0


def test_an_event_sent_in_two_deliveries_is_counted_once(town: Town):
    no_answer = [s.event_start for s in town.signals(partner_id="kanda-coop", event_type="no_answer")]
    assert sorted(no_answer) == [
        dt.datetime(2026, 11, 1, 11),
        dt.datetime(2026, 11, 1, 15),
        dt.datetime(2026, 11, 2, 11),
    ]
    assert town.counts("kanda-coop/20261103-01").get(("dropped", "repeated_event")) == 3  # all of day 1
    texts = [
        r["text_ja"]
        for e in _lists(town, "2026-11-03")["D01"]["entries"]
        for r in e["reasons"]
        if r["rule_id"] == "delivery_no_answer"
    ]
    assert texts and all("3回" in t for t in texts), texts


def test_a_correction_supersedes_the_earlier_delivery_and_both_stay_recorded(town: Town):
    earlier, later = town.delivery("hikari-bento/20261102-01"), town.delivery("hikari-bento/20261103-01")
    assert earlier.status == "superseded" and "20261103-01" in (earlier.reason or "")
    assert later.status == "loaded" and later.rows_loaded == 1
    rows = town.signals(partner_id="hikari-bento")
    assert [(s.delivery_pk, s.event_type) for s in rows] == [(later.id, "handed_over")]
    with session_scope(load_settings().database_url) as session:
        links = {
            link.ref: link.detail
            for link in session.execute(select(LineageLink).where(LineageLink.kind == "delivery")).scalars()
        }
    assert links["hikari-bento/20261103-01"]["supersedes"] == "hikari-bento/20261102-01"
    assert "hikari-bento/20261102-01" in links
    unknown = town.delivery("hikari-bento/20261103-02")
    assert unknown.status == "refused" and "never-sent" in (unknown.reason or "")


@pytest.mark.parametrize("ref", ["kanda-coop/changing-01", "kanda-coop/swapped-01"])
def test_a_file_changed_after_its_checksum_is_quarantined_not_read(town: Town, ref: str):
    found = town.delivery(ref)
    assert found.status == "quarantined" and found.rows_loaded == 0, (found.status, found.reason)
    assert "changed while being read" in (found.reason or "") or "symbolic link" in (found.reason or "")
    assert not [s for s in town.signals(partner_id="kanda-coop") if s.event_start.minute == 30]


def test_an_unexpected_error_in_one_delivery_quarantines_it_without_values(town: Town):
    found = town.delivery("kanda-coop/boom-01")
    assert found.status == "quarantined" and "RuntimeError" in (found.reason or ""), found.reason
    assert "山田" not in (found.reason or "") and "19400302" not in (found.reason or "")
    assert (town.home / "quarantine" / "kanda-coop" / "boom-01" / "events.csv.sealed").is_file()


def test_a_correction_failing_while_it_loads_leaves_the_earlier_delivery_whole(town: Town):
    found = town.delivery("kanda-coop/fix-boom")
    assert found.status == "quarantined" and "ValueError" in (found.reason or ""), found.reason
    assert found.rows_loaded == 0 and town.signals(delivery_pk=found.id) == []
    earlier = town.delivery("kanda-coop/row-times")
    assert earlier.status == "loaded"
    assert [s.event_start for s in town.signals(delivery_pk=earlier.id)] == [dt.datetime(2026, 11, 1, 9)]


def test_an_error_not_about_one_delivery_still_fails_the_run(town: Town):
    assert town.errors.get("2026-11-04", "").startswith("OperationalError"), town.errors
    with session_scope(load_settings().database_url) as session:
        status = session.execute(
            select(Delivery.status).where(Delivery.delivery_id == "dbdown-01")
        ).scalar_one_or_none()
    assert status is None, "nothing of the failed run is kept"


@pytest.mark.parametrize("kind", ["fifo", "socket", "hard link", "symbolic link"])
def test_a_listed_file_that_is_not_a_plain_file_is_refused_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
):
    """Checked without a town: a FIFO named in the manifest must not block the check (O_NONBLOCK)."""
    (tmp_path / "partners.yaml").write_text("partners:\n" + PARTNERS, encoding="utf-8")
    partners = load_registry(tmp_path / "partners.yaml")
    body = cp932(OUTSIDE_ROW)
    folder = tmp_path / "inbox" / "kanda-coop" / "odd-01"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(
        json.dumps(manifest("kanda-coop", "odd-01", {"data.csv": body}, "2026-11-02"))
    )
    (tmp_path / "real.csv").write_bytes(body)
    if kind == "fifo":
        os.mkfifo(folder / "data.csv")
    elif kind == "socket":
        monkeypatch.chdir(folder)  # a socket's path must be short
        listener = socket.socket(socket.AF_UNIX)
        listener.bind("data.csv")
        listener.close()
    elif kind == "hard link":
        os.link(tmp_path / "real.csv", folder / "data.csv")
    else:
        (folder / "data.csv").symlink_to(tmp_path / "real.csv")
    verdict = check_delivery(folder, partners)
    assert verdict.status == "refused" and kind in (verdict.reason or "").lower(), verdict.reason


@pytest.mark.parametrize("problem", ["too large", "a file twice", "rows not whole", "ends before start"])
def test_a_manifest_breaking_the_contract_is_refused_with_its_reason(tmp_path: Path, problem: str):
    (tmp_path / "partners.yaml").write_text("partners:\n" + PARTNERS, encoding="utf-8")
    body = cp932(OUTSIDE_ROW)
    folder = put(tmp_path / "inbox" / "kanda-coop" / "odd-02", {"data.csv": body}, "2026-11-02")
    raw = json.loads((folder / "manifest.json").read_text())
    if problem == "too large":
        raw["padding"] = " " * (1 << 20)
    elif problem == "a file twice":
        raw["files"] = raw["files"] * 2
    elif problem == "rows not whole":
        raw["files"][0]["rows"] = 1.5
    else:
        raw["period_end"] = raw["period_start"]
    (folder / "manifest.json").write_text(json.dumps(raw))
    verdict = check_delivery(folder, load_registry(tmp_path / "partners.yaml"))
    words = {"too large": "larger than", "a file twice": "twice", "rows not whole": "rows"}
    assert verdict.status == "refused" and words.get(problem, "period_end") in (verdict.reason or "")
