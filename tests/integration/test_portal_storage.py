"""The portal's queries on each warehouse (SQLite, and PostgreSQL in the PostgreSQL pass): scope, outcomes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from mimamori import daily
from mimamori.context import RunContext
from mimamori.settings import load_settings
from portal.account_admin import create_account
from portal.app import create_app
from warehouse.db import session_scope, utcnow
from warehouse.models import IdentityVault, Outcome, WatchlistEntry, WatchlistReason

pytestmark = pytest.mark.integration
DAY = dt.date(2026, 11, 20)
PASSWORD = "hoshizukiyo-2026"


def _entry(entry_id: str, resident: str, district: str) -> WatchlistEntry:
    return WatchlistEntry(
        entry_id=entry_id,
        run_date=DAY,
        resident=resident,
        district_code=district,
        tier="urgent",
        score=9.0,
        rule_set_version="test",
        run_id="test",
    )


def test_portal_scope_and_outcomes_on_this_warehouse(tiny: Path) -> None:
    (tiny / "municipality.yaml").write_text(
        "code: '149999'\nprefecture: 神奈川県\ncity: みどり市\ndistricts: {D01: 北部, D02: 東部}\n"
        "contacts: {D01: '北部 0465-00-1001'}\n",
        encoding="utf-8",
    )
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    settings = load_settings()
    with session_scope(settings.database_url) as db:
        mine, theirs = db.execute(select(IdentityVault).order_by(IdentityVault.resident)).scalars().all()
        theirs.district_code = "D02"
        db.add_all([_entry("WL-20261120-mine", mine.resident, "D01")])
        db.add_all([_entry("WL-20261120-theirs", theirs.resident, "D02")])
        db.flush()
        db.add(
            WatchlistReason(
                entry_id="WL-20261120-mine",
                rule_id="delivery_no_answer",
                rule_version="1",
                score=4.0,
                text_ja="配達時に応答がありません（2回、かんだ生協）",
                text_en="No answer at the door",
                partners=["kanda-coop"],
                sectors=["delivery"],
                evidence_from=dt.datetime(2026, 11, 19, 10),
                evidence_to=dt.datetime(2026, 11, 19, 15),
            )
        )
        create_account(
            db,
            login="north",
            role="outreach",
            districts=["D01"],
            display_name="北部",
            password=PASSWORD,
            totp=False,
            vault_keys=settings.vault_keys,
            known_districts=["D01", "D02"],
            actor="test",
            now=utcnow(),
        )
    client = TestClient(create_app(settings, secure_cookies=False), base_url="http://127.0.0.1")
    token = client.post("/api/v1/session", json={"login": "north", "password": PASSWORD}).json()["csrf_token"]
    listed = client.get(f"/api/v1/lists/{DAY}?district=D01").json()
    assert [e["entry_id"] for e in listed["entries"]] == ["WL-20261120-mine"]
    shown = listed["entries"][0]["name_kanji"]
    other = ({"山田　花子", "鈴木　一郎"} - {shown}).pop()
    assert client.get(f"/api/v1/lists/{DAY}?district=D02").status_code == 404
    assert client.get("/api/v1/entries/WL-20261120-theirs").status_code == 404
    page = client.get(f"/lists?date={DAY}").text
    assert "配達時に応答がありません" in page and "北部 0465-00-1001" in page
    assert shown in page and other not in page
    body = {"outcome": "not_home", "visited_on": DAY.isoformat(), "note": "不在票を投函"}
    first = client.post(
        "/api/v1/entries/WL-20261120-mine/outcomes", json=body, headers={"X-CSRF-Token": token}
    )
    body = {"outcome": "safe_no_action", "visited_on": DAY.isoformat()}
    again = client.post(
        "/api/v1/entries/WL-20261120-mine/outcomes", json=body, headers={"X-CSRF-Token": token}
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["corrects"] == first.json()["id"]
    stolen = client.post(
        "/api/v1/entries/WL-20261120-theirs/outcomes", json=body, headers={"X-CSRF-Token": token}
    )
    assert stolen.status_code == 404
    assert "対応済み" in client.get(f"/lists?date={DAY}").text
    with session_scope(settings.database_url) as db:
        assert db.execute(select(Outcome.entry_id)).scalars().all() == ["WL-20261120-mine"] * 2
