"""Every command of the contract, run as the installed `mimamori`: its exit status and its one-line reasons.

Monitoring scripts and cron jobs read only the exit status, so each command is run as a subprocess on one
small shared town (three days, a quarantined delivery), never called as a function.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import pwd
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from identity.register import newest_extract, read_extract
from mimamori.settings import DEPLOYMENT_VARIABLES, READER_VARIABLES

pytestmark = pytest.mark.e2e
CLI = str(Path(sys.executable).with_name("mimamori"))
BROKEN = ("sakura-life", "aoba-clinic")  # their last deliveries are quarantined


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "MIMAMORI_HOME": str(home), **extra}
    for name in (*DEPLOYMENT_VARIABLES, *READER_VARIABLES, "MIMAMORI_ACTOR"):
        if name not in extra:
            env.pop(name, None)
    return env


def mimamori(home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """Run the installed command against a data home."""
    return subprocess.run([CLI, *args], env=_env(home, **extra), capture_output=True, text=True, timeout=600)


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    """Assert a zero exit and return the result."""
    assert result.returncode == 0, (result.args, result.stderr[-1500:])
    return result


def refused(result: subprocess.CompletedProcess[str]) -> str:
    """Assert a non-zero exit with exactly one line of reason on stderr and no traceback; return the line."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0, (result.args, result.stdout[-500:])
    assert "Traceback" not in result.stderr + result.stdout, (result.args, result.stderr[-1500:])
    assert len(lines) == 1, (result.args, result.stderr)
    return lines[0]


@dataclass
class SmallTown:
    """A three-day town, its run dates, a spare copy of a consent file and one resident without consent."""

    home: Path
    dates: list[str]
    consent_file: Path
    unconsented: str

    def cli(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return mimamori(self.home, *args, **extra)

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.home / "warehouse.db")

    def entry(self) -> dict:
        for day in reversed(self.dates):
            entries = json.loads(ok(self.cli("watchlist", "--date", day, "--all-districts")).stdout)[
                "entries"
            ]
            if entries:
                return entries[0]
        raise AssertionError("every list is empty")


def _break(folder: Path) -> None:
    """Make a delivery unreadable but with a matching checksum, so it is quarantined (not refused)."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    body = b""
    (folder / manifest["files"][0]["name"]).write_bytes(body)
    manifest["files"][0].update(sha256=hashlib.sha256(body).hexdigest(), rows=0)
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> SmallTown:
    """300 residents over three days through `mimamori run`; two of the last day's deliveries are broken."""
    root = tmp_path_factory.mktemp("exit-status")
    home = root / "home"
    ok(mimamori(home, "demo", "--residents", "300", "--days", "3", "--seed", "3"))
    dates = json.loads(home.with_name("home.truth.json").read_text(encoding="utf-8"))["run_dates"]
    for partner in BROKEN:
        _break(sorted((home / "inbox" / partner).iterdir())[-1])
    spare = root / "consents_copy.csv"
    shutil.copy(sorted((home / "consents").glob("*.csv"))[0], spare)
    consented = set()
    for path in (home / "consents").glob("*.csv"):
        consented |= {r["resident_id"] for r in csv.DictReader(path.open(encoding="utf-8-sig"))}
    register = read_extract(newest_extract(home / "register", dt.date.fromisoformat(dates[-1])))
    residents = list(register["resident_id"])
    town = SmallTown(home, dates, spare, next(r for r in residents if r not in consented))
    for day in dates:
        ok(town.cli("run", "--date", day))
    return town


def test_run_exits_zero_on_a_day_and_non_zero_on_a_bad_date(small: SmallTown):
    ok(small.cli("run", "--date", small.dates[-1]))  # a rerun
    assert "not a date" in refused(small.cli("run", "--date", "2026-02-30"))
    refused(small.cli("run"))


def test_watchlist_needs_an_explicit_scope(small: SmallTown):
    day = small.dates[-1]
    line = refused(small.cli("watchlist", "--date", day, "--format", "json"))
    assert "--district" in line and "--all-districts" in line
    refused(small.cli("watchlist", "--date", day, "--district", "D01", "--all-districts"))
    refused(small.cli("watchlist", "--date", day, "--district", "NOPE"))
    refused(small.cli("watchlist", "--date", day, "--all-districts", "--format", "xml"))
    refused(small.cli("watchlist", "--date", "2026-13-01", "--all-districts"))
    everyone = json.loads(ok(small.cli("watchlist", "--date", day, "--all-districts")).stdout)["entries"]
    districts = sorted({e["district_code"] for e in everyone})
    assert districts
    one = json.loads(ok(small.cli("watchlist", "--date", day, "--district", districts[0])).stdout)
    assert {e["district_code"] for e in one["entries"]} == {districts[0]}
    two = ok(small.cli("watchlist", "--date", day, "--district", districts[0], "--district", districts[-1]))
    assert {e["entry_id"] for e in json.loads(two.stdout)["entries"]} == {
        e["entry_id"] for e in everyone if e["district_code"] in {districts[0], districts[-1]}
    }
    assert ok(small.cli("watchlist", "--date", day, "--all-districts", "--format", "csv")).stdout
    assert "<html" in ok(small.cli("watchlist", "--date", day, "--all-districts", "--format", "html")).stdout


def test_each_watchlist_view_is_audited_with_its_explicit_scope(small: SmallTown):
    day = small.dates[-1]
    ok(small.cli("watchlist", "--date", day, "--district", "D01", "--district", "D02"))
    ok(small.cli("watchlist", "--date", day, "--all-districts"))
    with small.db() as db:
        views = db.execute(
            "SELECT detail FROM audit_log WHERE action = 'watchlist_view' AND subject = ? ORDER BY seq DESC",
            (day,),
        ).fetchall()
    scopes = [json.loads(detail)["scope"] for (detail,) in views[:2]]
    assert scopes == ["all-districts", ["D01", "D02"]]


def test_the_reader_on_record_is_the_os_user_whatever_the_environment_claims(small: SmallTown):
    me = pwd.getpwuid(os.geteuid()).pw_name
    day = small.dates[-1]
    ok(
        small.cli(
            "watchlist",
            "--date",
            day,
            "--all-districts",
            MIMAMORI_ACTOR="mallory",
            USER="mallory",
            LOGNAME="mallory",
        )
    )
    with small.db() as db:
        actor, detail = db.execute(
            "SELECT actor, detail FROM audit_log WHERE action = 'watchlist_view' ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    assert actor.split(" ")[0] == me and actor != "mallory"
    assert json.loads(detail)["os_user"] == me and json.loads(detail)["claimed"] == "mallory"


def test_outcome_record(small: SmallTown):
    entry = small.entry()
    ok(
        small.cli(
            "outcome",
            "record",
            "--entry-id",
            entry["entry_id"],
            "--outcome",
            "not_home",
            "--visited-on",
            small.dates[-1],
        )
    )
    refused(
        small.cli(
            "outcome",
            "record",
            "--entry-id",
            entry["entry_id"],
            "--outcome",
            "nope",
            "--visited-on",
            small.dates[-1],
        )
    )
    refused(
        small.cli(
            "outcome",
            "record",
            "--entry-id",
            "WL-missing",
            "--outcome",
            "not_home",
            "--visited-on",
            small.dates[-1],
        )
    )
    refused(small.cli("outcome", "record", "--entry-id", entry["entry_id"], "--outcome", "not_home"))


def test_consent_commands(small: SmallTown):
    listed = ok(small.cli("consent", "list")).stdout.splitlines()
    assert listed[0].split("\t")[:2] == ["同意ID", "状態"]
    assert {line.split("\t")[1] for line in listed[1:]} <= {"同意", "更新", "撤回", "取消（市）", "期限切れ"}
    consent_id = listed[1].split("\t")[0]
    assert "bogus" in refused(small.cli("consent", "list", "--status", "bogus"))
    assert ok(small.cli("consent", "show", consent_id)).stdout
    assert json.loads(ok(small.cli("consent", "receipt", consent_id)).stdout)
    assert "<html" in ok(small.cli("consent", "receipt", consent_id, "--format", "html")).stdout
    ok(small.cli("consent", "import", str(small.consent_file)))
    ok(
        small.cli(
            "consent",
            "grant",
            "--resident-id",
            small.unconsented,
            "--consent-id",
            "C-EXIT-1",
            "--granted-on",
            small.dates[0],
        )
    )
    ok(small.cli("consent", "renew", "C-EXIT-1", "--expires-on", "2029-03-31"))
    ok(small.cli("consent", "withdraw", "C-EXIT-1", "--on", small.dates[-1]))
    ok(small.cli("consent", "partners"))
    # a form saved by Japanese Excel (CP932), one good and one refused row: the good one is written, exit 1
    form = small.consent_file.with_name("excel_cp932.csv")
    with small.consent_file.open(encoding="utf-8-sig", newline="") as source:
        header = next(csv.reader(source))
    good = dict.fromkeys(header, "")
    good.update(
        resident_id=small.unconsented,
        consent_id="C-EXCEL-1",
        scope_partners="*",
        scope_sectors="*",
        purpose="watch_over",
        granted_on=small.dates[0],
        method="proxy",
        proxy_name="見守 花子",
        proxy_relation="長女",
    )
    bad = {**good, "consent_id": "C-EXCEL-2", "method": "fax"}
    lines = [",".join(header)] + [",".join(row[c] for c in header) for row in (good, bad)]
    form.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
    answer = small.cli("consent", "import", str(form))
    assert answer.returncode == 1, answer.stderr
    assert "C-EXCEL-2" in answer.stdout and "記録済み" in answer.stdout
    assert ok(small.cli("consent", "show", "C-EXCEL-1")).stdout
    ok(small.cli("consent", "provision-log", "--from", small.dates[0], "--to", small.dates[-1]))
    refused(small.cli("consent", "show", "C-NO-SUCH"))
    refused(small.cli("consent", "receipt", consent_id, "--format", "xml"))
    refused(small.cli("consent", "withdraw", "C-EXIT-1", "--on", "someday"))
    refused(small.cli("consent", "import", str(small.home / "no-such.csv")))
    refused(
        small.cli(
            "consent",
            "grant",
            "--resident-id",
            small.unconsented,
            "--consent-id",
            "C-EXIT-2",
            "--granted-on",
            "2026-99-01",
        )
    )


def test_quarantine_commands(small: SmallTown):
    listed = ok(small.cli("quarantine", "list")).stdout
    first, second = (f"{p}/{sorted((small.home / 'inbox' / p).iterdir())[-1].name}" for p in BROKEN)
    assert first in listed and second in listed
    assert "quarantined" in ok(small.cli("quarantine", "show", first)).stdout
    ok(small.cli("quarantine", "release", first))
    ok(small.cli("quarantine", "discard", second))
    refused(small.cli("quarantine", "show", "nobody/none"))
    refused(small.cli("quarantine", "release", "nobody/none"))
    refused(small.cli("quarantine", "discard", "nobody/none"))


def test_link_review(small: SmallTown):
    ok(small.cli("link", "review"))
    refused(small.cli("link", "accept", "999999"))
    refused(small.cli("link", "reject", "not-a-number"))


def test_audit_verify_lineage_and_the_exported_head(small: SmallTown, tmp_path: Path):
    assert "intact" in ok(small.cli("audit", "verify")).stdout
    entry = small.entry()
    assert ok(small.cli("audit", "lineage", entry["entry_id"])).stdout.strip()
    refused(small.cli("audit", "lineage", "WL-missing"))
    head = json.loads(ok(small.cli("audit", "export-head")).stdout)
    assert {"sequence", "hash", "signature", "key_id", "at"} <= set(head)
    (tmp_path / "head.json").write_text(json.dumps(head), encoding="utf-8")
    ok(small.cli("audit", "verify", "--head", str(tmp_path / "head.json")))
    refused(small.cli("audit", "verify", "--head", str(tmp_path / "missing.json")))


def test_audit_lineage_is_audited_naming_the_reader(small: SmallTown):
    entry = small.entry()["entry_id"]
    with small.db() as db:
        before = db.execute(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'lineage_view' AND subject = ?", (entry,)
        ).fetchone()[0]
    ok(small.cli("audit", "lineage", entry))
    with small.db() as db:
        rows = db.execute(
            "SELECT actor FROM audit_log WHERE action = 'lineage_view' AND subject = ?", (entry,)
        ).fetchall()
    assert len(rows) == before + 1
    assert rows[-1][0] == pwd.getpwuid(os.geteuid()).pw_name


def test_audit_verify_exits_non_zero_on_a_tampered_copy(small: SmallTown, tmp_path: Path):
    copy = tmp_path / "tampered"
    shutil.copytree(small.home, copy)
    with sqlite3.connect(copy / "warehouse.db") as db:
        size = db.execute("SELECT MAX(seq) FROM audit_log").fetchone()[0]
        db.execute("DELETE FROM audit_log WHERE seq = ?", (size // 2,))
    result = mimamori(copy, "audit", "verify")
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert "改ざん" in result.stdout + result.stderr


def test_demo_writes_a_town_and_refuses_to_overwrite_one(small: SmallTown, tmp_path: Path):
    refused(small.cli("demo", "--residents", "200", "--days", "2"))
    ok(mimamori(tmp_path / "fresh", "demo", "--residents", "200", "--days", "2"))
    refused(mimamori(tmp_path / "other", "demo", "--residents", "5"))
    too_small = mimamori(tmp_path / "small", "demo", "--residents", "50", "--days", "2")
    assert too_small.returncode != 0 and "Traceback" not in too_small.stderr
    assert too_small.stderr.strip().splitlines()[-1].startswith("エラー / error:")


@pytest.mark.parametrize(
    "args",
    [
        ("nonsense",),
        ("run",),
        ("run", "--date"),
        ("watchlist", "--date", "2026-11-02", "--all-districts", "--format", "xml"),
        ("audit", "lineage"),
        ("audit", "verify", "--head"),
        ("quarantine", "show"),
        ("consent", "grant", "--consent-id", "C-1"),
        ("outcome", "record", "--entry-id", "x"),
        ("keys", "rotate", "--nope"),
        ("demo", "--days", "many"),
    ],
)
def test_bad_arguments_exit_non_zero_with_one_line_and_no_traceback(small: SmallTown, args: tuple[str, ...]):
    line = refused(small.cli(*args))
    assert line.startswith("エラー / error:")
