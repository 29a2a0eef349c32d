"""The portal in Chromium: TOTP sign-in, the outreach flow, CSRF, lockout, idle expiry, phone width, print."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from conftest import ARTIFACTS, Served
from sqlalchemy import select

from warehouse.account_models import WebSessionRecord
from warehouse.db import session_scope

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, locale="ja-JP", timezone_id="Asia/Tokyo")
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in(page: Any, served: Served, login: str, otp: str = "") -> None:
    who = served.town.logins[login]
    page.goto(served.url + "/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", who.password or "")
    if who.totp_secret:
        page.fill("input[name=otp]", otp or pyotp.TOTP(who.totp_secret).now())
    page.click("button[type=submit].primary")
    page.wait_for_load_state()


def no_horizontal_overflow(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


def shoot(page: Any, name: str) -> None:
    """Keep a full-page screenshot of the page at the current width and at 1280 px."""
    page.screenshot(path=str(ARTIFACTS / f"{name}-390.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(ARTIFACTS / f"{name}-1280.png"), full_page=True)
    page.set_viewport_size(PHONE)


def test_sign_in_with_totp_shows_only_my_district(page: Any, served: Served) -> None:
    page.goto(served.url + "/login")
    assert no_horizontal_overflow(page)
    shoot(page, "login")
    sign_in(page, served, "east")
    assert page.url.endswith("/lists")
    assert page.locator("section.district h2").all_inner_texts() == [
        t for t in page.locator("section.district h2").all_inner_texts() if "東部" in t
    ]
    assert page.locator("section.district").count() == 1


def test_the_browser_is_a_japanese_users(page: Any, served: Served) -> None:
    resolved = page.evaluate("Intl.DateTimeFormat().resolvedOptions()")
    assert (resolved["timeZone"], resolved["locale"]) == ("Asia/Tokyo", "ja-JP")
    assert page.evaluate("navigator.language") == "ja-JP"
    sign_in(page, served, "north")
    page.locator("ol.cards li.card a.name").first.click()
    page.wait_for_load_state()
    today = page.evaluate("new Date().toLocaleDateString('sv-SE')")  # YYYY-MM-DD in the page's zone
    visited = page.locator("input[name=visited_on]")
    assert visited.input_value() == today and visited.get_attribute("max") == today


def test_outreach_flow_list_entry_outcome_handled(page: Any, served: Served) -> None:
    sign_in(page, served, "north")
    assert "/lists" in page.url
    assert no_horizontal_overflow(page)
    shoot(page, "list")
    first = page.locator("ol.cards li.card").first
    assert first.locator(".tier").inner_text().endswith(("本日確認", "数日以内に訪問", "見守り継続"))
    assert first.locator("a.tel").get_attribute("href").startswith("tel:")
    assert not first.locator("details.detail code").first.is_visible()  # rule ids folded away
    first.locator("details.detail summary").click()
    assert first.locator("details.detail code").first.is_visible()
    name = first.locator("a.name").inner_text()
    first.locator("a.name").click()
    page.wait_for_load_state()
    assert re.search(r"/entries/WL-[\w-]+$", page.url)
    assert page.locator("h1.name").inner_text() == name
    assert no_horizontal_overflow(page)
    shoot(page, "entry")
    page.check("input[name=outcome][value=safe_no_action]")
    page.fill("textarea[name=note]", "声かけに応答あり。食事はとれている")
    page.click("form.stack button.primary")
    page.wait_for_load_state()
    assert "訪問結果を記録しました" in page.inner_text("main")
    assert "安否確認済み" in page.inner_text("ul.history")
    page.click("p.back a")
    page.wait_for_load_state()
    card = page.locator("ol.cards li.card", has=page.locator(f"a.name:text-is('{name}')"))
    assert card.locator(".badge").first.inner_text() == "対応済み"


def test_post_without_csrf_token_is_refused(page: Any, served: Served) -> None:
    sign_in(page, served, "north")
    entry = page.locator("ol.cards a.name").first.get_attribute("href")
    answer = page.request.post(
        served.url + entry + "/outcomes",
        form={"outcome": "not_home", "visited_on": dt.date.today().isoformat()},
        max_redirects=0,
    )
    assert answer.status == 403
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = page.request.post(
        served.url + entry + "/outcomes",
        form={"outcome": "lost-code", "visited_on": "2026-01-01", "csrf_token": token},
        max_redirects=0,
    )
    assert answer.status == 422  # past the CSRF check, refused for its content


def test_five_failures_lock_the_account(page: Any, served: Served) -> None:
    page.goto(served.url + "/login")
    for _ in range(5):
        page.fill("input[name=login]", "locky")
        page.fill("input[name=password]", "not-the-password-1")
        page.click("button[type=submit].primary")
        page.wait_for_load_state()
        assert "サインイン" in page.inner_text("h1")
    sign_in(page, served, "locky")
    assert "ロック" in page.inner_text("main")
    assert "/login" in page.url


def test_idle_session_expires(page: Any, served: Served) -> None:
    sign_in(page, served, "north")
    assert page.url.endswith("/lists")
    with session_scope(served.town.settings().database_url) as db:
        for record in db.execute(
            select(WebSessionRecord).where(WebSessionRecord.ended_at.is_(None))
        ).scalars():
            record.last_seen_at -= dt.timedelta(minutes=31)  # as if the phone lay idle for 31 minutes
    page.goto(served.url + "/lists")
    assert page.url.endswith("/login")


def test_print_stylesheet_and_print_view(page: Any, served: Served) -> None:
    sign_in(page, served, "north")
    page.emulate_media(media="print")
    assert not page.locator("header.bar").is_visible()
    assert not page.locator("form.datepick").is_visible()
    assert page.locator("ol.cards li.card").first.is_visible()
    page.emulate_media(media="screen")
    page.click("p.tools a:text-is('印刷用')")
    page.wait_for_load_state()
    assert "緊急連絡先" in page.inner_text("p.meta") and "0465-00-" in page.inner_text("p.meta")
    assert page.locator("th.c-result").inner_text().startswith("訪問結果")
    assert no_horizontal_overflow(page)
    shoot(page, "print")
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    page.screenshot(path=str(ARTIFACTS / "print-media-a4.png"), full_page=True)
    assert not page.locator("p.noprint").is_visible()
    assert page.locator("table thead").is_visible()
    page.pdf(path=str(ARTIFACTS / "print-a4.pdf"), format="A4", prefer_css_page_size=True)


def test_sign_out_ends_the_session(page: Any, served: Served) -> None:
    sign_in(page, served, "north")
    page.click("header.bar button.link")
    page.wait_for_load_state()
    assert page.url.endswith("/login")
    page.goto(served.url + "/lists")
    assert page.url.endswith("/login")


def test_the_outbox_html_list_fits_a_phone(page: Any, served: Served) -> None:
    day = served.town.dates[-1]
    page.goto((served.town.home / "outbox" / day / "D01.html").as_uri())
    assert page.locator("h1").inner_text().startswith("見守りリスト")
    page.screenshot(path=str(ARTIFACTS / "outbox-390.png"), full_page=True)
    assert no_horizontal_overflow(page)
