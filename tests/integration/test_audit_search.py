"""The auditor's audit search on a bare warehouse: filters, Japanese days, paging, CSV, the search audited."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from identity.keys import KeyRing
from identity.pseudonym import pseudonymise
from portal import audit_search
from warehouse import audit
from warehouse.db import migrate, session_scope
from warehouse.errors import InputError
from warehouse.models import AuditRecord, WatchlistEntry

pytestmark = pytest.mark.integration
KEYS = KeyRing("k1", {"k1": b"p" * 32})
RESIDENT = "0078914635"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    found = f"sqlite:///{Path(tmp_path_factory.mktemp('search')) / 'w.db'}"
    migrate(found)
    pseudonym = pseudonymise(KEYS, RESIDENT)
    with session_scope(found) as db:
        for n, day in enumerate((dt.date(2026, 10, 31), dt.date(2026, 11, 2))):
            db.add(
                WatchlistEntry(
                    entry_id=f"WL-{day:%Y%m%d}-{n}",
                    run_date=day,
                    resident=pseudonym,
                    district_code="D01",
                    tier="high",
                    score=5.0,
                    rule_set_version="r1",
                    run_id="run",
                )
            )
        for n in range(120):
            audit.append(db, "portal:north" if n % 2 else "portal:east", "reidentify", f"WL-x-{n}")
        audit.append(db, "portal:north", "reidentify", "WL-20261031-0")
        audit.append(db, "portal:north", "reidentify", "WL-20261102-1")
        audit.append(db, "=cmd|' /C calc'!A0", "purge", pseudonym)
        # 2026-10-31 15:30 UTC is 11/1 00:30 in Japan: a November read by the calendar the auditor uses.
        for record, at in zip(
            db.query(AuditRecord).order_by(AuditRecord.seq.desc()).limit(3),
            (dt.datetime(2026, 11, 3, 1), dt.datetime(2026, 11, 2, 1), dt.datetime(2026, 10, 31, 15, 30)),
            strict=True,
        ):
            record.at = at  # the chain is not what these tests check
    return found


def _search(db: Session, **form: str) -> audit_search.Found:
    return audit_search.search(db, audit_search.parse_filter(form, KEYS))


def test_resident_number_becomes_its_pseudonym_and_finds_reads_of_all_their_entries(url: str) -> None:
    with session_scope(url) as db:
        found = _search(db, resident=RESIDENT, since="2026-11-01", until="2026-11-30")
        assert [r.subject for r in found.records] == [
            pseudonymise(KEYS, RESIDENT),
            "WL-20261102-1",
            "WL-20261031-0",
        ]
        only_reads = _search(db, resident=RESIDENT, action="reidentify", actor="north")
        assert {r.subject for r in only_reads.records} == {"WL-20261102-1", "WL-20261031-0"}
        assert _search(db, resident=RESIDENT, until="2026-10-31").total == 0  # 11/1 00:30 in Japan


def test_bad_input_is_refused_in_japanese_first() -> None:
    for form in (
        {"resident": "山田太郎"},
        {"since": "2026-13-01"},
        {"since": "2026-11-05", "until": "2026-11-01"},
    ):
        with pytest.raises(InputError) as refused:
            audit_search.parse_filter(form, KEYS)
        assert " / " in str(refused.value) and not str(refused.value).isascii()


def test_paging_is_newest_first_and_covers_every_match_once(url: str) -> None:
    wanted = audit_search.parse_filter({"action": "reidentify"}, KEYS)
    with session_scope(url) as db:
        pages = [audit_search.search(db, wanted, n, size=50) for n in (1, 2, 3)]
        seen = [r.seq for p in pages for r in p.records]
        assert pages[0].total == 122 and pages[0].pages == 3
        assert seen == sorted(seen, reverse=True) and len(set(seen)) == 122
        assert audit_search.search(db, wanted, 99, size=50).page == 3


def test_csv_neutralises_formulas_and_the_search_is_audited_without_the_number(url: str) -> None:
    wanted = audit_search.parse_filter({"resident": RESIDENT}, KEYS)
    with session_scope(url) as db:
        body = audit_search.to_csv(db, wanted).decode("utf-8-sig")
        audit_search.record_search(db, "portal:auditor", wanted, "csv")
    assert "\"'=cmd" in body and '"=cmd' not in body
    with session_scope(url) as db:
        last = db.query(AuditRecord).order_by(AuditRecord.seq.desc()).first()
        assert last is not None and last.action == "audit_search" and last.actor == "portal:auditor"
        assert last.detail["filter"]["resident"] == pseudonymise(KEYS, RESIDENT)
        assert RESIDENT not in str(last.detail)


def test_detail_shows_nested_filters_with_their_values() -> None:
    shown = audit_search.detail_text({"how": "page", "filter": {"action": "reidentify", "ids": ["a", "b"]}})
    assert shown == "how=page filter=action=reidentify ids=a,b"
