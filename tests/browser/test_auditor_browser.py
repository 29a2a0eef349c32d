"""The auditor's and admin's pages in Chromium: an audited search by resident, the lineage picture, charts,
validation results and account changes, each at 390 px without overflow and with screenshots kept."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import ARTIFACTS, Served
from sqlalchemy import select
from test_portal_browser import PHONE, no_horizontal_overflow, shoot, sign_in

from lineage.entry import chain
from warehouse.db import session_scope
from warehouse.models import AuditRecord, Delivery, ValidationResult
from watchlist.rules import load_rules

pytestmark = pytest.mark.e2e
A4 = {"width": 794, "height": 1123}  # an A4 page at 96 dpi, as the print preview lays it out


def _signed_in(browser: Any, served: Served, login: str) -> Iterator[Any]:
    """One signed-in page for a whole module (a TOTP code is accepted once per 30 s step)."""
    context = browser.new_context(viewport=PHONE, locale="ja-JP", timezone_id="Asia/Tokyo")
    page = context.new_page()
    sign_in(page, served, login)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="module")
def auditor(browser: Any, served: Served) -> Iterator[Any]:
    yield from _signed_in(browser, served, "auditor")


@pytest.fixture(scope="module")
def admin(browser: Any, served: Served) -> Iterator[Any]:
    yield from _signed_in(browser, served, "admin")


@pytest.fixture(scope="module")
def read_by_kintone(served: Served) -> dict[str, Any]:
    """The integration account reads D01's newest list: re-identifications the auditor will find."""
    request = urllib.request.Request(
        f"{served.url}/api/v1/lists/{served.town.dates[-1]}?district=D01",
        headers={"Authorization": f"Bearer {served.town.logins['kintone'].token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        entries: list[dict[str, Any]] = json.loads(answer.read())["entries"]
    assert entries, "the town must list someone in D01"
    return entries[0]


def _search(page: Any, served: Served, **fields: str) -> None:
    page.goto(served.url + "/audit")
    for name, value in fields.items():
        if name == "action":
            page.select_option("select[name=action]", value)
        else:
            page.fill(f"input[name={name}]", value)
    page.click("#audit-search button.primary")
    page.wait_for_load_state()


def test_who_read_this_resident_answered_by_an_audited_search(
    auditor: Any, served: Served, read_by_kintone: dict[str, Any]
) -> None:
    resident, entry_id = read_by_kintone["resident_id"], read_by_kintone["entry_id"]
    month = dt.date.fromisoformat(served.town.dates[-1]).replace(day=1)
    today = dt.datetime.now(dt.UTC) + dt.timedelta(hours=9)
    _search(
        auditor, served, resident=resident, action="reidentify", since=str(month), until=f"{today:%Y-%m-%d}"
    )
    assert auditor.url == served.url + "/audit", "the resident must travel in the form, not the URL"
    rows = auditor.locator("table.records tbody tr")
    actors = rows.locator("td[data-label=利用者]").all_inner_texts()
    assert "portal:kintone" in actors
    assert entry_id in rows.locator("td[data-label=対象]").all_inner_texts()
    assert resident not in auditor.content(), "the resident number is replaced by its pseudonym"
    assert auditor.locator(f"ul.listings a[href='/audit/entries/{entry_id}/lineage']").count() == 1
    assert "✔" in auditor.locator(".chainstate").inner_text()
    assert no_horizontal_overflow(auditor)
    shoot(auditor, "auditor-search")
    auditor.set_viewport_size(A4)
    auditor.emulate_media(media="print")
    assert not auditor.locator("#audit-search").is_visible()
    assert auditor.locator("table.records").is_visible() and auditor.locator(".printonly").is_visible()
    auditor.screenshot(path=str(ARTIFACTS / "auditor-search-print.png"), full_page=True)
    auditor.emulate_media(media="screen")
    auditor.set_viewport_size(PHONE)
    with session_scope(served.town.settings().database_url) as db:
        searches = list(
            db.execute(
                select(AuditRecord).where(
                    AuditRecord.action == "audit_search", AuditRecord.actor == "portal:auditor"
                )
            ).scalars()
        )
    assert searches and searches[-1].detail["filter"]["resident"].count(":") == 1
    assert resident not in json.dumps([s.detail for s in searches])


def test_csv_export_of_the_search(auditor: Any, served: Served) -> None:
    _search(auditor, served, action="reidentify")
    with auditor.expect_download() as download:
        auditor.click("#audit-search button[formaction='/audit/export.csv']")
    body = download.value.path().read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0].startswith('"seq","at_jst","actor","action"') and len(lines) > 1
    assert all('"reidentify"' in line for line in lines[1:])


def test_lineage_picture_has_one_node_per_delivery_of_the_chain(
    auditor: Any, served: Served, read_by_kintone: dict[str, Any]
) -> None:
    entry_id = read_by_kintone["entry_id"]
    auditor.goto(f"{served.url}/audit/entries/{entry_id}/lineage")
    settings = served.town.settings()
    with session_scope(settings.database_url) as db:
        found = chain(db, entry_id, load_rules(settings.home))
    picture = auditor.locator("#lineage-picture svg")
    assert picture.count() == 1
    nodes = picture.locator("g[data-kind=delivery]")
    assert nodes.count() == len(found.deliveries) > 0
    keys = [nodes.nth(i).get_attribute("data-key") for i in range(nodes.count())]
    assert keys == [f"{d.partner_id}/{d.delivery_id}" for d in found.deliveries]
    assert picture.locator("g[data-kind=entry]").get_attribute("data-key") == entry_id
    rules = picture.locator("g[data-kind=rule]")
    assert [rules.nth(i).get_attribute("data-key") for i in range(rules.count())] == [
        f"{r.rule_id} v{r.version}" for r in found.rules
    ]
    table = auditor.locator("#deliveries tbody tr td[data-label=配信]").all_inner_texts()
    assert table == keys
    assert read_by_kintone["name_kanji"] not in auditor.content()
    assert no_horizontal_overflow(auditor)
    shoot(auditor, "auditor-lineage")


def test_rule_charts_show_the_numbers_of_their_tables(auditor: Any, served: Served) -> None:
    auditor.goto(served.url + "/audit/rules")
    for district in ("D01", "D02"):
        block = auditor.locator(f"#chart-tier-{district}")
        drawn: dict[str, float] = {}
        for mark in block.locator("svg rect[data-value]").all():
            day = mark.get_attribute("data-category") or ""
            drawn[day] = drawn.get(day, 0) + float(mark.get_attribute("data-value") or 0)
        totals = {
            row.locator("td").first.inner_text(): float(row.locator("td").last.inner_text())
            for row in block.locator("table tbody tr").all()
        }
        assert drawn == totals and sum(totals.values()) > 0
    assert no_horizontal_overflow(auditor)
    shoot(auditor, "auditor-rules")


def test_every_validation_result_names_its_partner_and_delivery(auditor: Any, served: Served) -> None:
    auditor.goto(served.url + "/audit/validations")
    rows = auditor.locator("#validations tbody tr")
    with session_scope(served.town.settings().database_url) as db:
        stored = set(
            db.execute(
                select(Delivery.partner_id, Delivery.delivery_id).join(
                    ValidationResult, ValidationResult.delivery_pk == Delivery.id
                )
            ).tuples()
        )
    shown = {(r.get_attribute("data-partner"), r.get_attribute("data-delivery")) for r in rows.all()}
    assert shown == stored and stored
    assert no_horizontal_overflow(auditor)
    assert auditor.evaluate(
        "[...document.querySelectorAll('link,script,img')].every(e => "
        "!(e.href || e.src) || (e.href || e.src).startsWith(location.origin))"
    )
    shoot(auditor, "auditor-validations")


def test_admin_adds_and_disables_an_account_and_reads_no_names(admin: Any, served: Served) -> None:
    admin.goto(served.url + "/admin/accounts")
    admin.fill("#add-account input[name=login]", "newaudit")
    admin.select_option("#add-account select[name=role]", "auditor")
    admin.fill("#add-account input[name=password]", "kinmokusei-no-kaori-26")
    admin.click("#add-account button.primary")
    admin.wait_for_load_state()
    assert "二要素認証の秘密鍵" in admin.locator("#shown-once").inner_text()
    assert no_horizontal_overflow(admin)
    shoot(admin, "admin-accounts")
    admin.locator("tr[data-login=newaudit] form[action$='/disable'] button").click()
    admin.wait_for_load_state()
    assert "無効" in admin.locator("tr[data-login=newaudit] td[data-label=状態]").inner_text()
    assert admin.locator("#shown-once").count() == 0, "a secret is shown once only"
    assert admin.goto(served.url + "/lists").status == 403
    with session_scope(served.town.settings().database_url) as db:
        done = {
            (r.action, r.subject)
            for r in db.execute(select(AuditRecord).where(AuditRecord.actor == "portal:admin")).scalars()
        }
    assert {("account_created", "account:newaudit"), ("account_disabled", "account:newaudit")} <= done
