"""Stewards' consent commands over a tiny home: grant, renew, withdraw, receipts, reports, provision log."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import select

from consent import receipt
from mimamori import daily
from mimamori.cli import consent as cc
from mimamori.context import RunContext
from mimamori.settings import load_settings
from warehouse.db import session_scope
from warehouse.errors import InputError
from warehouse.models import AuditRecord, ConsentRecord, LinkMemory, Signal
from warehouse.retention import expire_provision_records, expire_signals

pytestmark = pytest.mark.integration


def test_receipt_json_follows_the_schema_and_the_page_renders(tiny: Path):
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    document = json.loads(cc.consent_receipt("C-1", "json"))
    jsonschema.Draft202012Validator(receipt.schema(), format_checker=jsonschema.FormatChecker()).validate(
        document
    )
    assert [e["type"] for e in document["events"]] == ["given"]
    assert {s["id"] for s in document["parties"]["sources"]} == {"kanda-coop"}
    page = cc.consent_receipt("C-1", "html")
    assert "山田　花子 様" in page and "かんだ生協" in page and "撤回" in page
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            {**document, "validity": {**document["validity"], "status": "maybe"}}, receipt.schema()
        )


def test_grant_renew_withdraw_are_versions_and_the_next_run_purges(tiny: Path):
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    assert "recorded" in cc.consent_grant(
        "0000000001", "C-9", "kanda-coop", "delivery", "2026-11-01", None, "proxy", "P-9", "山田太郎", "長男"
    )
    with pytest.raises(InputError, match="proxy consent needs"):
        cc.consent_grant("0000000001", "C-10", "*", "*", "2026-11-01", None, "proxy", "", "", "")
    assert "renewed until 2028-12-31" in cc.consent_renew("C-1", "2028-12-31")
    cc.consent_withdraw("C-1", "2026-11-03", revoke=False)
    cc.consent_withdraw("C-9", "2026-11-03", revoke=True)
    assert [line.split("\t")[1] for line in cc.consent_show("C-1").splitlines()] == [
        "given",
        "renewed",
        "withdrawn",
    ]
    with pytest.raises(InputError, match="already withdrawn"):
        cc.consent_withdraw("C-1", "2026-11-03", revoke=False)
    daily.run_day(RunContext.from_environment(), "2026-11-03")
    assert "only this tombstone remains" in cc.consent_show("C-1")
    assert "only this tombstone remains" in cc.consent_show("C-9")
    settings = load_settings()
    with session_scope(settings.database_url) as session:
        actions = [a.action for a in session.execute(select(AuditRecord)).scalars()]
    assert actions.count("consent_change") == 2 + 1 + 1 + 2 and actions.count("purge") == 1


def test_reports_and_records_of_provision(tiny: Path):
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    daily.run_day(RunContext.from_environment(), "2026-11-03")
    log = cc.provision_log("kanda-coop", "2026-11-01", "2026-11-30").splitlines()
    assert len(log) == 2 and all("keep until 2029-11-0" in line for line in log)
    report = cc.partner_report(None, None).splitlines()
    assert report[1].startswith("kanda-coop\t")


def test_retention_deletes_old_signals_and_audits(tiny: Path):
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    settings = load_settings()
    with session_scope(settings.database_url) as session:
        assert expire_signals(session, dt.date(2026, 11, 2), "t", days=90) == 0
        assert expire_signals(session, dt.date(2027, 3, 1), "t", days=90) == 1
        assert session.execute(select(Signal)).first() is None
        assert expire_provision_records(session, dt.date(2029, 11, 2), "t") == 0
        assert expire_provision_records(session, dt.date(2029, 11, 3), "t") == 1


def test_a_purge_takes_the_pseudonym_out_of_link_memory(tiny: Path):
    url = load_settings().database_url
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    with session_scope(url) as session:
        resident = session.execute(
            select(ConsentRecord.resident).where(ConsentRecord.consent_id == "C-1")
        ).scalar()
        assert session.execute(select(LinkMemory).where(LinkMemory.resident == resident)).first()
    cc.consent_withdraw("C-1", "2026-11-02", revoke=False)
    daily.run_day(RunContext.from_environment(), "2026-11-03")
    with session_scope(url) as session:
        assert not session.execute(select(LinkMemory).where(LinkMemory.resident == resident)).first()
        # the customer is still remembered as withdrawn (a keyed hash), so later rows are dropped
        assert "withdrawn" in set(session.execute(select(LinkMemory.decision)).scalars())
