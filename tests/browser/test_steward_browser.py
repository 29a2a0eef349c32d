"""The steward's week in Chromium: CP932 form import with preview, withdraw, release, link accept, provision
CSV, disclosure; every page at 390 px without sideways scrolling, screenshots at 390 and 1280 px."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import ARTIFACTS, Served
from steward_town import cp932_form, newcomer
from test_portal_browser import PHONE, no_horizontal_overflow, shoot, sign_in

from mimamori_demo.evaluation import published

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def desk(browser: Any, served: Served) -> Iterator[Any]:
    """One steward signed in once (a TOTP code is good for one sign-in) for the whole module."""
    context = browser.new_context(
        viewport=PHONE, locale="ja-JP", timezone_id="Asia/Tokyo", accept_downloads=True
    )
    page = context.new_page()
    sign_in(page, served, "steward")
    try:
        yield page
    finally:
        context.close()


def open_page(page: Any, served: Served, path: str, name: str) -> None:
    page.goto(served.url + path)
    page.wait_for_load_state()
    assert no_horizontal_overflow(page), path
    shoot(page, name)


def test_home_lists_the_steward_pages(desk: Any, served: Served) -> None:
    open_page(desk, served, "/", "steward-home")
    assert desk.locator("nav.snav a").all_inner_texts() == [
        "配信",
        "隔離",
        "名寄せ確認",
        "同意",
        "提供記録",
        "開示",
    ]


def test_feeds_grid_opens_a_delivery(desk: Any, served: Served) -> None:
    open_page(desk, served, "/steward/feeds", "steward-feeds")
    assert desk.locator("table.feeds tbody tr").count() >= 5
    assert desk.locator("table.feeds td.cell a.quarantined").count() >= 1
    desk.locator("table.feeds td.cell a.on_time[href]").first.click()
    desk.wait_for_load_state()
    assert "/steward/deliveries/" in desk.url and "提供記録" in desk.inner_text("main")
    assert no_horizontal_overflow(desk)
    shoot(desk, "steward-delivery")


def test_release_a_quarantined_delivery_with_reason_and_confirmation(desk: Any, served: Served) -> None:
    open_page(desk, served, "/steward/quarantine", "steward-quarantine")
    held = desk.locator("section.held", has_text="かんだ生活協同組合").first
    assert "宣言した文字コード" in held.inner_text()
    held.locator("h2 a").click()
    desk.wait_for_load_state()
    desk.check("input[name=decision][value=release]")
    desk.fill("input[name=why]", "事業者が CP932 で再送すると連絡あり")
    desk.click("form.stack button.primary")
    desk.wait_for_load_state()
    assert "解放の確認" in desk.inner_text("main")
    shoot(desk, "steward-release-confirm")
    desk.click("form.stack button.primary")
    desk.wait_for_load_state()
    assert "/steward/jobs/" in desk.url  # the release runs as a job; its page reloads until it is done
    desk.wait_for_selector("p.ok", timeout=30_000)
    assert "解放しました" in desk.inner_text("p.ok")
    shoot(desk, "steward-release-job")
    desk.click("p.back a")
    desk.wait_for_load_state()
    assert "解放済み" in desk.inner_text("h1")


def test_accept_a_link_one_pair_at_a_time(desk: Any, served: Served) -> None:
    open_page(desk, served, "/steward/links", "steward-links")
    assert "1 / 2 組" in desk.inner_text("div.pager")
    assert desk.locator("section.partner dd.diff").count() == 2
    assert desk.locator("section.register dd.diff").count() == 2
    name = desk.locator("section.register dd").nth(1).inner_text()
    assert name and name == desk.locator("section.partner dd").nth(1).inner_text()
    desk.click("button[value=accept]")
    desk.wait_for_load_state()
    assert "承認を記録しました" in desk.inner_text("p.ok")
    assert "1 / 1 組" in desk.inner_text("div.pager")


def test_import_a_cp932_form_with_preview_then_withdraw_the_new_consent(desk: Any, served: Served) -> None:
    resident_id = newcomer(served.town.home, served.town.dates[-1])
    body = cp932_form(resident_id, served.town.dates[0], "C-WEB-1", "C-WEB-2", {"granted_on": "2026/11/01"})
    open_page(desk, served, "/steward/consents", "steward-consents")
    desk.set_input_files(
        "input[name=form]",
        files=[{"name": "同意書_Excel.csv", "mimeType": "text/csv", "buffer": body}],
    )
    desk.click("form[enctype] button.primary")
    desk.wait_for_load_state()
    summary = desk.inner_text("ul.summary")
    assert "受け付ける行 1" in summary and "受け付けない行 1" in summary
    assert "同意日の日付が正しくありません" in desk.inner_text(
        "table.refused"
    ) or "granted_on" in desk.inner_text("table.refused")
    assert "まだ何も記録していません" in desk.inner_text("main")
    assert no_horizontal_overflow(desk)
    shoot(desk, "steward-import-preview")
    desk.click("form.stack button.primary")
    desk.wait_for_load_state()
    assert "1行を記録しました" in desk.inner_text("p.ok")
    # find the person again by resident id (posted, never in the URL) and withdraw in two steps
    desk.goto(served.url + "/steward/consents")
    desk.fill("input[name=query]", resident_id)
    desk.click("form[action='/steward/consents/search'] button")
    desk.wait_for_load_state()
    assert resident_id not in desk.url
    assert "C-WEB-1" in desk.inner_text("main")
    assert no_horizontal_overflow(desk)
    shoot(desk, "steward-person")
    desk.fill("input[name=why]", "本人から電話で申し出")
    desk.click("button.danger")
    desk.wait_for_load_state()
    assert "撤回の確認" in desk.inner_text("h1")
    shoot(desk, "steward-withdraw-confirm")
    desk.click("button.danger")
    desk.wait_for_load_state()
    assert "次回の実行で削除" in desk.inner_text("p.ok")
    assert "撤回" in desk.inner_text("span.pill")


def test_provision_log_and_its_csv(desk: Any, served: Served) -> None:
    first, last = served.town.dates[0], served.town.dates[-1]
    open_page(desk, served, f"/steward/provision?start={first}&end={last}", "steward-provision")
    assert desk.locator("table.provision tbody tr").count() >= 5
    with desk.expect_download() as waiting:
        desk.click("a.csv")
    saved = ARTIFACTS / "provision.csv"
    waiting.value.save_as(saved)
    assert saved.read_bytes().startswith(b"\xef\xbb\xbf")


def test_disclosure_report_for_one_resident(desk: Any, served: Served) -> None:
    # someone on the last list: consent in force, data provided, listed (not one whose consent has ended)
    listed = published(served.town.home, served.town.dates[-1])[0]
    resident_id = sorted(listed)[0]
    open_page(desk, served, "/steward/disclosure", "steward-disclosure-form")
    desk.fill("input[name=resident_id]", resident_id)
    desk.click("form.stack button.primary")
    desk.wait_for_load_state()
    assert resident_id not in desk.url
    assert desk.locator("h1").inner_text() == "保有個人データの開示（見守り事業）"
    assert desk.locator("table").count() >= 3, desk.inner_text("body")[:1500]
    assert "リストに掲載されたことはありません" not in desk.inner_text("body")
    # the inline style is allowed by its hash: the headings have the report's border
    assert desk.evaluate("getComputedStyle(document.querySelector('h2')).borderBottomStyle") == "solid"
    assert no_horizontal_overflow(desk)
    shoot(desk, "steward-disclosure")
