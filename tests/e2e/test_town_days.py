"""A town run day by day through `mimamori run`: only the right people listed, reruns change nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3

import pytest

from identity.register import newest_extract, read_extract
from mimamori_demo.evaluation import consent_copies, eligible, listed

pytestmark = pytest.mark.e2e


def test_lists_are_published_and_not_empty(town):
    for day in town.dates:
        files = sorted(p.name for p in (town.home / "outbox" / day).iterdir())
        assert files and {p.split(".")[1] for p in files} == {"csv", "html", "json"}
    assert sum(len(listed(town.home, d)) for d in town.dates) > 0


def test_only_consented_single_residents_aged_65_plus_are_listed(town):
    for day in town.dates:
        allowed = eligible(town.home, dt.date.fromisoformat(day))
        on_list = set(listed(town.home, day))
        assert on_list <= allowed, (day, on_list - allowed)


def test_a_collapse_is_on_the_next_mornings_list_as_urgent_or_high(town):
    collapse = next(s for s in town.truth["scenarios"] if s["scenario"] == "collapse")
    entry = listed(town.home, collapse["should_be_listed_from"]).get(collapse["resident_id"])
    assert entry is not None and entry["tier"] in {"urgent", "high"}
    assert any(r["rule_id"] == "electricity_rhythm_lost" for r in entry["reasons"])


def test_a_withdrawn_resident_disappears_and_their_rows_are_dropped(town):
    before = town.dates[town.dates.index(town.withdrawn_from) - 1]
    assert town.withdrawn in listed(town.home, before)
    for day in town.dates[town.dates.index(town.withdrawn_from) :]:
        assert town.withdrawn not in listed(town.home, day)
    with sqlite3.connect(town.home / "warehouse.db") as db:
        dropped = db.execute(
            "SELECT SUM(count) FROM delivery_counts WHERE stage='dropped' AND reason='withdrawn'"
        )
        assert (dropped.fetchone()[0] or 0) > 0


def _snapshot(town, day):
    outbox = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (town.home / "outbox" / day).iterdir()
    }
    with sqlite3.connect(town.home / "warehouse.db") as db:
        counts = {
            t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in (
                "signals",
                "deliveries",
                "watchlist_entries",
                "watchlist_reasons",
                "consent_records",
                "identity_vault",
                "feed_health",
            )
        }
    return outbox, counts


def test_rerunning_a_day_changes_nothing(town):
    day = town.dates[-3]
    before = _snapshot(town, day)
    town.cli("run", "--date", day)
    assert _snapshot(town, day) == before


def test_the_cli_prints_lists_in_three_formats_and_audits_each_view(town):
    day = next(d for d in reversed(town.dates) if listed(town.home, d))
    data = json.loads(town.cli("watchlist", "--date", day, "--all-districts", "--format", "json").stdout)
    entry = data["entries"][0]
    assert {"entry_id", "resident_id", "district_code", "tier", "score", "reasons"} <= set(entry)
    assert (
        entry["reasons"][0]["text_ja"] and entry["reasons"][0]["text_en"] and entry["reasons"][0]["partners"]
    )
    assert town.cli("watchlist", "--date", day, "--all-districts", "--format", "csv").stdout.startswith(
        "\ufeff"
    )
    assert "<html" in town.cli("watchlist", "--date", day, "--all-districts", "--format", "html").stdout
    with sqlite3.connect(town.home / "warehouse.db") as db:
        views = db.execute(
            "SELECT COUNT(*) FROM audit_log WHERE action='reidentify' AND subject=?", (entry["entry_id"],)
        ).fetchone()[0]
    assert views >= 4  # published once, then viewed three times
    assert "intact" in town.cli("audit", "verify").stdout
    lineage = town.cli("audit", "lineage", entry["entry_id"]).stdout
    assert "delivery" in lineage and "consent" in lineage and "code" in lineage


def test_no_identifier_reaches_the_warehouse_outside_the_vault(town):
    register = read_extract(newest_extract(town.home / "register", dt.date.fromisoformat(town.dates[-1])))
    needles = set()
    for r in register.itertuples(index=False):
        needles |= {
            r.resident_id,
            r.name_kanji.replace("\u3000", ""),
            r.name_kana.replace("\u3000", ""),
            re.sub(r"\D", "", r.phone),
        }
    needles = {n for n in needles if len(n) >= 4}
    assert len(needles) > 1000
    with sqlite3.connect(town.home / "warehouse.db") as db:
        dump = "\n".join(line for line in db.iterdump() if "identity_vault" not in line)
    dump = dump.replace("\u3000", "")
    leaked = sorted(n for n in needles if n in dump)
    assert leaked == []


def test_bad_arguments_give_one_line_reasons(town):
    for args in (
        ("run", "--date", "not-a-date"),
        ("watchlist", "--date", "2026-13-01", "--all-districts"),
        ("watchlist", "--date", "2026-11-05"),
        ("outcome", "record", "--entry-id", "WL-x", "--outcome", "nope", "--visited-on", "2026-11-05"),
        ("audit", "lineage", "WL-missing"),
    ):
        result = town.cli(*args, check=False)
        assert result.returncode != 0 and "Traceback" not in result.stderr and result.stderr.strip(), args


def _db(town):
    return sqlite3.connect(town.home / "warehouse.db")


def test_every_drop_reason_is_counted_at_the_door(town):
    with _db(town) as db:
        reasons = dict(
            db.execute(
                "SELECT reason, SUM(count) FROM delivery_counts WHERE stage='dropped' GROUP BY reason"
            ).fetchall()
        )
    for reason in ("no_consent", "out_of_scope", "expired", "withdrawn", "before_grant"):
        assert reasons.get(reason, 0) > 0, (reason, reasons)


def test_a_withdrawal_leaves_only_a_tombstone(town):
    from identity.pseudonym import pseudonymise
    from mimamori.settings import load_settings

    settings = load_settings({"MIMAMORI_HOME": str(town.home)})
    resident = pseudonymise(settings.pseudonym_keys, town.withdrawn)
    with _db(town) as db:
        left = {
            table: db.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} = ?", (resident,)).fetchone()[0]
            for table, column in (
                ("signals", "resident"),
                ("reading_days", "resident"),
                ("identity_vault", "resident"),
                ("watch_population", "resident"),
                ("consent_records", "resident"),
                ("link_reviews", "candidate"),
            )
        }
        tombstones = db.execute(
            "SELECT reason, ended_on FROM consent_tombstones WHERE resident = ?", (resident,)
        ).fetchall()
        later = db.execute(
            "SELECT COUNT(*) FROM watchlist_entries WHERE resident = ? AND run_date >= ?",
            (resident, town.withdrawn_from),
        ).fetchone()[0]
        linked = db.execute(
            "SELECT COUNT(*) FROM link_memory WHERE resident = ? AND decision != 'withdrawn'", (resident,)
        ).fetchone()[0]
        purges = db.execute(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'purge' AND subject = ?", (resident,)
        ).fetchone()[0]
    assert left == dict.fromkeys(left, 0)
    assert tombstones and {t[0] for t in tombstones} == {"withdrawn"}
    assert (later, linked, purges) == (0, 0, 1)


def test_an_expired_consent_is_purged_too(town):
    expired = town.truth["consents"]["expiring_in_period"]
    assert expired
    with _db(town) as db:
        found = {
            row[0] for row in db.execute("SELECT consent_id FROM consent_tombstones WHERE reason='expired'")
        }
    assert {c["consent_id"] for c in expired} <= found


def test_signals_respect_proxy_consents_and_scopes(town):
    with _db(town) as db:
        proxy = db.execute(
            "SELECT COUNT(*) FROM signals s JOIN consent_records c ON s.consent_id = c.consent_id "
            "WHERE c.method = 'proxy'"
        ).fetchone()[0]
        scoped = db.execute(
            "SELECT DISTINCT s.partner_id, s.sector, c.scope_partners, c.scope_sectors FROM signals s "
            "JOIN consent_records c ON s.consent_id = c.consent_id "
            "WHERE c.scope_partners != '[\"*\"]' OR c.scope_sectors != '[\"*\"]'"
        ).fetchall()
    assert proxy > 0
    assert scoped, "the town has consents limited by partner or sector"
    for partner, sector, partners, sectors in scoped:
        partners, sectors = json.loads(partners), json.loads(sectors)
        assert partners == ["*"] or partner in partners
        assert sectors == ["*"] or sector in sectors


def test_importing_a_consent_file_again_changes_nothing(town):
    first = sorted(consent_copies(town.home).glob("consents_*.csv"))[0]  # the home's are sealed once imported
    with _db(town) as db:
        before = db.execute("SELECT COUNT(*) FROM consent_records").fetchone()[0]
    assert "added 0," in town.cli("consent", "import", str(first)).stdout
    with _db(town) as db:
        assert db.execute("SELECT COUNT(*) FROM consent_records").fetchone()[0] == before


def test_lineage_of_an_entry_still_answers_after_its_resident_was_purged(town):
    from identity.pseudonym import pseudonymise
    from mimamori.settings import load_settings

    resident = pseudonymise(load_settings({"MIMAMORI_HOME": str(town.home)}).pseudonym_keys, town.withdrawn)
    with _db(town) as db:
        entry = db.execute(
            "SELECT entry_id FROM watchlist_entries WHERE resident = ? ORDER BY run_date DESC", (resident,)
        ).fetchone()[0]
    lineage = town.cli("audit", "lineage", entry).stdout
    assert "purged (tombstone only)" in lineage and "rule" in lineage


def test_an_old_list_still_prints_after_a_withdrawal_without_the_withdrawn_person(town):
    before = town.dates[town.dates.index(town.withdrawn_from) - 1]
    assert town.withdrawn in listed(town.home, before)  # the published file is not rewritten
    data = json.loads(town.cli("watchlist", "--date", before, "--all-districts", "--format", "json").stdout)
    assert town.withdrawn not in {e["resident_id"] for e in data["entries"]}
    assert any(n["status"] == "hidden" for n in data["notices"])
