"""Authorization matrix: every route x every role x own and other district, on one small town.

Allowed answers 2xx/303 to the right place; denied answers 401 (API) or a redirect to sign-in (pages)
without a principal, 403 for a role the table does not grant, and 404 for another district's entry or
list. Afterwards the audit log shows no re-identification across districts or by a role without reads.
"""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from portal_town import ACCOUNTS, Login, PortalTown, build_town
from sqlalchemy import select

from portal.app import create_app
from portal.policy import POLICY, PUBLIC
from portal.second_factor import current_code
from warehouse.db import session_scope, utcnow
from warehouse.models import AuditRecord, ConsentRecord, WatchlistEntry

pytestmark = pytest.mark.integration
BASE = "http://127.0.0.1"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Case:
    """One route as the matrix calls it, with the action the route declares."""

    method: str
    path: str  # with {date}, {district}, {entry}
    action: str
    body: str = ""  # "form" or "json"
    ends_session: bool = False
    form: tuple[tuple[str, str], ...] = ()  # the form a non-outcome POST sends ({district} filled in)
    done: int | str | None = None  # the answer when permitted, where it differs from the default


ROUTES = (
    Case("GET", "/healthz", PUBLIC),
    Case("GET", "/login", PUBLIC),
    Case("GET", "/api/v1/openapi.json", PUBLIC),
    Case("GET", "/", "home"),
    Case("GET", "/lists?date={date}", "list_read"),
    Case("GET", "/lists/print?district={district}&date={date}", "list_export"),
    Case("GET", "/lists/export.csv?district={district}&date={date}", "list_export"),
    Case("GET", "/lists/export.xlsx?district={district}&date={date}", "list_export"),
    Case("GET", "/entries/{entry}", "entry_read"),
    Case("POST", "/entries/{entry}/outcomes", "outcome_write", "form"),
    Case("GET", "/api/v1/lists/{date}?district={district}", "api_list_read"),
    Case("GET", "/api/v1/entries/{entry}", "api_entry_read"),
    Case("POST", "/api/v1/entries/{entry}/outcomes", "api_outcome_write", "json"),
    Case("GET", "/audit", "audit_read"),
    Case("POST", "/audit", "audit_read", "form", form=(("action", "reidentify"),), done=200),
    Case("POST", "/audit/export.csv", "audit_export", "form", form=(("action", "reidentify"),), done=200),
    Case("GET", "/audit/entries/{entry}/lineage", "lineage_read"),
    Case("GET", "/audit/rules", "rule_report_read"),
    Case("GET", "/audit/validations", "validation_read"),
    Case("GET", "/admin/accounts", "account_read"),
    Case(
        "POST",
        "/admin/accounts",
        "account_write",
        "form",
        form=(("login", "made-{district}"), ("role", "auditor"), ("password", "kinmokusei-2026-x")),
        done=200,
    ),
    Case("POST", "/admin/accounts/{login}/districts", "account_write", "form", form=(("districts", "D03"),)),
    Case(
        "POST",
        "/admin/accounts/{login}/password",
        "account_write",
        "form",
        form=(("password", "hagi-no-hana-2026"),),
    ),
    Case("POST", "/admin/accounts/{login}/second-factor", "account_write", "form", done=200),
    Case("POST", "/admin/accounts/{login}/disable", "account_write", "form"),
    Case("POST", "/logout", "sign_out", "form", ends_session=True),
    Case("DELETE", "/api/v1/session", "api_session", ends_session=True),
    Case("GET", "/steward/feeds", "steward_read"),
    Case("GET", "/steward/quarantine", "steward_read"),
    Case("GET", "/steward/deliveries/{delivery}", "steward_read"),
    Case("POST", "/steward/deliveries/{delivery}/decide", "steward_write", "form", done=422),
    Case("GET", "/steward/links", "steward_identity"),
    Case("POST", "/steward/links/{review}/decide", "steward_write", "form", done=422),
    Case("GET", "/steward/consents", "steward_read"),
    Case("POST", "/steward/consents/search", "steward_identity", "form", done=422),
    Case("GET", "/steward/consents/{consent}/receipt", "steward_identity"),
    Case("POST", "/steward/consents/{consent}/withdraw", "steward_write", "form", done=422),
    Case("POST", "/steward/consents/{consent}/renew", "steward_write", "form", done=422),
    Case("POST", "/steward/consents/import", "steward_write", "form", done=422),
    Case("POST", "/steward/consents/import/commit", "steward_write", "form", done=422),
    Case("GET", "/steward/jobs/{job}", "steward_read", done=404),
    Case("GET", "/steward/provision", "steward_read"),
    Case("GET", "/steward/provision.csv", "steward_read"),
    Case("GET", "/steward/disclosure", "steward_read"),
    Case("POST", "/steward/disclosure", "steward_identity", "form", done=422),
)
# Sign-in routes are exercised by their own tests below (they take credentials, not a principal).
SIGN_IN = {("POST", "/login"), ("POST", "/api/v1/session")}


class Clock:
    """The app's clock: each sign-in moves it on by one TOTP step, so codes are fresh and predictable."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def tick(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=31)
        return self.now


@dataclass
class World:
    """The town, its app and clock, and per district the newest list date and one entry id."""

    town: PortalTown
    app: FastAPI
    clock: Clock
    date: str
    entries: dict[str, str]
    consent: str = ""
    delivery: int = 1


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    # "spare" is the account the admin routes change (and finally disable).
    town = build_town(
        tmp_path_factory.mktemp("portal") / "home",
        residents=300,
        days=3,
        accounts={**ACCOUNTS, "spare": ("outreach", ("D03",), False)},
    )
    settings = town.settings()
    date = town.dates[-1]
    with session_scope(settings.database_url) as db:
        rows = db.execute(
            select(WatchlistEntry.district_code, WatchlistEntry.entry_id)
            .where(WatchlistEntry.run_date == dt.date.fromisoformat(date))
            .order_by(WatchlistEntry.entry_id)
        ).tuples()
        entries: dict[str, str] = {}
        for district, entry_id in rows:
            entries.setdefault(district, entry_id)
        consent = db.execute(select(ConsentRecord.consent_id).limit(1)).scalar_one()
    assert {"D01", "D02"} <= set(entries), entries
    clock = Clock()
    app = create_app(settings, secure_cookies=False, clock=clock)
    return World(town, app, clock, date, entries, consent)


def sign_in(world: World, who: Login) -> tuple[TestClient, dict[str, str]]:
    """A client signed in through the API (session cookie + CSRF) or carrying a bearer token."""
    client = TestClient(world.app, base_url=BASE)
    if who.token:
        return client, {"Authorization": f"Bearer {who.token}"}
    now = world.clock.tick()
    otp = current_code(who.totp_secret, now) if who.totp_secret else None
    answer = client.post("/api/v1/session", json={"login": who.login, "password": who.password, "otp": otp})
    assert answer.status_code == 200, answer.text
    return client, {"X-CSRF-Token": answer.json()["csrf_token"]}


def call(client: TestClient, case: Case, world: World, district: str, headers: dict[str, str]) -> Any:
    path = case.path.format(
        date=world.date,
        district=district,
        entry=world.entries[district],
        consent=world.consent,
        delivery=world.delivery,
        review=999999,
        job="no-such-job",
        login="spare",
    )
    kwargs: dict[str, Any] = {"headers": headers, "follow_redirects": False}
    if case.body == "form" and case.form:
        kwargs["data"] = {
            "csrf_token": headers.get("X-CSRF-Token", ""),
            **{k: v.format(district=district.lower()) for k, v in case.form},
        }
        kwargs["headers"] = {k: v for k, v in headers.items() if k != "X-CSRF-Token"}
    elif case.body == "form":
        kwargs["data"] = {
            "csrf_token": headers.get("X-CSRF-Token", ""),
            "outcome": "not_home",
            "visited_on": world.date,
        }
        kwargs["headers"] = {k: v for k, v in headers.items() if k != "X-CSRF-Token"}
    if case.body == "json":
        kwargs["json"] = {"outcome": "not_home", "visited_on": world.date}
    return client.request(case.method, path, **kwargs)


def expected(who: Login | None, case: Case, district: str) -> int | str:
    """The status the policy predicts ("login" for a redirect to the sign-in page)."""
    if case.action == PUBLIC:
        return 200
    api = case.path.startswith("/api/")
    if who is None or (who.token and not api):
        return 401 if api else "login"
    scope = POLICY[who.role].get(case.action)
    if scope is None:
        return 403
    scoped = "{district}" in case.path or "{entry}" in case.path
    if scope == "districts" and scoped and district not in who.districts:
        return 404
    if case.action == "sign_out":
        return "login"
    if case.done is not None:
        return case.done
    if case.method == "DELETE":
        return 204
    if case.body == "json":
        return 201
    if case.method == "POST" or case.path == "/":
        return 303 if who.role == "outreach" or case.method == "POST" else 200
    return 200


def outcome(answer: Any) -> int | str:
    """The status, or "login" for a redirect to the sign-in page."""
    if answer.status_code == 303 and answer.headers.get("location") == "/login":
        return "login"
    return int(answer.status_code)


def test_matrix_covers_every_route(world: World) -> None:
    declared = {(m, r.path) for r in world.app.routes if isinstance(r, APIRoute) for m in r.methods}
    placeholders = {
        "{entry}": "{entry_id}",
        "{delivery}": "{delivery_pk}",
        "{review}": "{review_id}",
        "{consent}": "{consent_id}",
        "{job}": "{job_id}",
    }
    covered = set()
    for c in ROUTES:
        path = c.path.split("?")[0]
        for short, name in placeholders.items():
            path = path.replace(short, name)
        covered.add((c.method, path))
    assert declared - SIGN_IN == covered


@pytest.mark.parametrize("login", [None, "north", "east", "steward", "auditor", "admin", "kintone"])
def test_every_route_for_every_role_in_own_and_other_district(world: World, login: str | None) -> None:
    who = world.town.logins[login] if login else None

    def client_for() -> tuple[TestClient, dict[str, str]]:
        return sign_in(world, who) if who else (TestClient(world.app, base_url=BASE), {})

    got: dict[tuple[str, str], int | str] = {}
    want: dict[tuple[str, str], int | str] = {}
    client, headers = client_for()
    for district in ("D01", "D02"):
        for case in (c for c in ROUTES if not c.ends_session):
            got[(case.path, district)] = outcome(call(client, case, world, district, headers))
            want[(case.path, district)] = expected(who, case, district)
    for case in (c for c in ROUTES if c.ends_session):
        client, headers = client_for()
        got[(case.path, "")] = outcome(call(client, case, world, "D01", headers))
        want[(case.path, "")] = expected(who, case, "D01")
        if who and who.role != "integration" and case.action in POLICY[who.role]:
            after = client.get(f"/api/v1/lists/{world.date}?district=D01", headers=headers)
            assert after.status_code == 401, "the session must be over"
    assert got == want


def _reads(world: World) -> list[AuditRecord]:
    with session_scope(world.town.settings().database_url) as db:
        return list(
            db.execute(
                select(AuditRecord).where(
                    AuditRecord.action == "reidentify", AuditRecord.actor.like("portal:%")
                )
            ).scalars()
        )


def test_no_identity_was_read_across_districts_or_roles(world: World) -> None:
    districts_of = {f"portal:{w.login}": set(w.districts) for w in world.town.logins.values()}
    reads = _reads(world)
    assert reads, "the matrix must have read some identities"
    for record in reads:
        readers = districts_of[record.actor]
        assert record.detail["district"] in readers, (record.actor, record.subject)
        assert record.detail["purpose"] in {"view", "print", "export", "api"}
    roles = {f"portal:{w.login}": w.role for w in world.town.logins.values()}
    assert {roles[r.actor] for r in reads} <= {"outreach", "integration"}


def test_other_district_pages_show_no_name_of_theirs(world: World) -> None:
    east_client, _ = sign_in(world, world.town.logins["east"])
    listed = east_client.get(f"/api/v1/lists/{world.date}?district=D02").json()["entries"]
    names = [e["name_kanji"] for e in listed] + [e["phone"] for e in listed if e["phone"]]
    assert names
    client, _ = sign_in(world, world.town.logins["north"])
    for path in ("/lists", f"/lists?date={world.date}", f"/entries/{world.entries['D01']}"):
        page = client.get(path).text
        assert all(name not in page for name in names), path
    assert client.get(f"/api/v1/lists/{world.date}?district=D02").status_code == 404


def test_bearer_token_never_opens_pages_and_wrong_token_is_401(world: World) -> None:
    client = TestClient(world.app, base_url=BASE)
    bearer = {"Authorization": f"Bearer {world.town.logins['kintone'].token}"}
    assert client.get("/lists", headers=bearer, follow_redirects=False).headers["location"] == "/login"
    assert client.get(f"/api/v1/lists/{world.date}", headers=bearer).status_code == 200
    wrong = {"Authorization": "Bearer not-a-token"}
    assert client.get(f"/api/v1/lists/{world.date}?district=D01", headers=wrong).status_code == 401


def test_unknown_entry_and_other_districts_entry_answer_alike(world: World) -> None:
    client, _ = sign_in(world, world.town.logins["north"])
    other = client.get(f"/api/v1/entries/{world.entries['D02']}")
    missing = client.get("/api/v1/entries/WL-20990101-0000000000")
    assert (other.status_code, other.json()) == (missing.status_code, missing.json())
    page_other = client.get(f"/entries/{world.entries['D02']}")
    page_missing = client.get("/entries/WL-20990101-0000000000")
    assert page_other.status_code == page_missing.status_code == 404
    assert page_other.text == page_missing.text


def test_csv_download_has_a_bom_and_quoted_resident_numbers(world: World) -> None:
    client, _ = sign_in(world, world.town.logins["north"])
    answer = client.get(f"/lists/export.csv?district=D01&date={world.date}")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith(b"\xef\xbb\xbf")
    rows = answer.content.decode("utf-8-sig").splitlines()
    assert rows[0].startswith('"エントリID","宛名番号"')
    assert all(line.split(",")[1].startswith('"') and "=" not in line for line in rows[1:])


def test_excel_download_keeps_resident_numbers_as_text_no_store_audited_and_scoped(world: World) -> None:
    client, _ = sign_in(world, world.town.logins["north"])
    listed = client.get(f"/api/v1/lists/{world.date}?district=D01").json()["entries"]
    answer = client.get(f"/lists/export.xlsx?district=D01&date={world.date}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith(XLSX)
    assert answer.headers["cache-control"] == "no-store"
    assert 'filename="mimamori_' in answer.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("エントリID", "宛名番号") and len(rows) == len(listed) + 1
    numbers = [row[1] for row in rows[1:]]
    assert numbers == [e["resident_id"] for e in listed]
    assert all(isinstance(n, str) for n in numbers)
    assert any(n.startswith("0") for n in numbers), "the town must have a number with a leading zero"
    assert all(cell.data_type == "s" for cell in next(sheet.iter_cols(min_col=2, max_col=2)))
    with session_scope(world.town.settings().database_url) as db:
        purposes = {
            (r.detail or {}).get("purpose")
            for r in db.execute(
                select(AuditRecord).where(
                    AuditRecord.actor == "portal:north",
                    AuditRecord.subject == listed[0]["entry_id"],
                    AuditRecord.action == "reidentify",
                )
            ).scalars()
        }
    assert "export" in purposes
    assert client.get(f"/lists/export.xlsx?district=D02&date={world.date}").status_code == 404
    assert (
        f"/lists/export.xlsx?district=D01&amp;date={world.date}"
        in client.get(f"/lists?date={world.date}").text
    )


def test_excel_download_never_writes_a_formula() -> None:
    from portal.excel import to_xlsx
    from watchlist.render import ListedEntry, PublishedList

    entry = ListedEntry(
        "WL-1",
        "0078914635",
        "D01",
        "北",
        "urgent",
        "至急",
        1.0,
        '=HYPERLINK("x")',
        "＋カナ",
        "80-84",
        "@住所",
        "-1+2",
        [],
        True,
    )
    listing = PublishedList("2026-11-01", "D01", "北", "v1", [], [entry])
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(listing))).active
    assert sheet is not None
    row = next(sheet.iter_rows(min_row=2, values_only=True))
    assert row[1] == "0078914635"
    assert all(not str(v).startswith(("=", "+", "-", "@", "＋")) for v in row if v is not None)
    assert all(c.data_type != "f" for c in next(sheet.iter_rows(min_row=2)))


def test_an_outcome_with_a_note_is_sealed_audited_and_a_same_day_correction_keeps_history(
    world: World,
) -> None:
    client, headers = sign_in(world, world.town.logins["north"])
    entry_id = world.entries["D01"]
    note = "玄関先で会話。膝の痛みあり"
    first = client.post(
        f"/api/v1/entries/{entry_id}/outcomes",
        json={"outcome": "not_home", "visited_on": world.date, "note": note, "follow_up_on": world.date},
        headers=headers,
    )
    second = client.post(
        f"/api/v1/entries/{entry_id}/outcomes",
        json={"outcome": "safe_no_action", "visited_on": world.date},
        headers=headers,
    )
    assert first.status_code == second.status_code == 201
    assert second.json()["corrects"] == first.json()["id"]
    assert first.json()["recorded_by"] == "portal:north"
    shown = client.get(f"/api/v1/entries/{entry_id}").json()["outcomes"]
    by_id = {o["id"]: o for o in shown}
    assert by_id[first.json()["id"]]["corrected"] and by_id[first.json()["id"]]["note"] == note
    page = client.get(f"/entries/{entry_id}").text
    assert "訂正前" in page and note in page
    listed = client.get(f"/lists?date={world.date}").text
    assert "対応済み" in listed
    refused = client.post(
        f"/api/v1/entries/{entry_id}/outcomes", json={"outcome": "lost", "visited_on": world.date}
    )
    assert refused.status_code == 403  # no CSRF token: refused before anything is read
    with session_scope(world.town.settings().database_url) as db:
        from warehouse.models import Outcome

        sealed = db.get(Outcome, first.json()["id"])
        assert sealed is not None and sealed.note_sealed and note.encode() not in sealed.note_sealed
        actions = [
            (r.actor, r.action, r.subject, (r.detail or {}).get("purpose"))
            for r in db.execute(select(AuditRecord).where(AuditRecord.subject == entry_id)).scalars()
        ]
    assert ("portal:north", "outcome_corrected", entry_id, None) in actions
    assert ("portal:north", "reidentify", entry_id, "api") in actions
    assert ("portal:north", "outcome_note_read", entry_id, "view") in actions


def _jst_today(world: World) -> dt.date:
    return (world.clock.now + dt.timedelta(hours=9)).date()


def test_api_and_page_refuse_a_visit_in_the_future_and_a_follow_up_before_the_visit(world: World) -> None:
    client, headers = sign_in(world, world.town.logins["north"])
    entry_id = world.entries["D01"]
    tomorrow = (_jst_today(world) + dt.timedelta(days=1)).isoformat()
    the_day_before = (dt.date.fromisoformat(world.date) - dt.timedelta(days=1)).isoformat()
    path = f"/api/v1/entries/{entry_id}/outcomes"
    future = client.post(path, json={"outcome": "not_home", "visited_on": tomorrow}, headers=headers)
    assert future.status_code == 422
    assert "訪問日" in future.json()["detail"] and " / " in future.json()["detail"]
    assert "\n" not in future.json()["detail"]
    early = client.post(
        path,
        json={"outcome": "not_home", "visited_on": world.date, "follow_up_on": the_day_before},
        headers=headers,
    )
    assert early.status_code == 422
    assert "次回確認日" in early.json()["detail"] and " / " in early.json()["detail"]
    for visited, follow, reason in ((tomorrow, "", "訪問日"), (world.date, the_day_before, "次回確認日")):
        page = client.post(
            f"/entries/{entry_id}/outcomes",
            data={
                "csrf_token": headers["X-CSRF-Token"],
                "outcome": "not_home",
                "visited_on": visited,
                "follow_up_on": follow,
            },
            follow_redirects=False,
        )
        assert page.status_code == 422 and reason in page.text and "<form" in page.text


def _cli(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    command = Path(sys.executable).with_name("mimamori")
    return subprocess.run(
        [str(command), *args], env=world.town.environ(), capture_output=True, text=True, timeout=300
    )


def test_cli_records_a_sealed_note_and_refuses_impossible_dates(world: World) -> None:
    entry_id = world.entries["D02"]
    note = "CLIから記録。食欲低下あり"
    done = _cli(
        world, "outcome", "record", "--entry-id", entry_id, "--outcome", "support_started",
        "--visited-on", world.date, "--note", note,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    client, _ = sign_in(world, world.town.logins["east"])
    shown = client.get(f"/api/v1/entries/{entry_id}").json()["outcomes"]
    assert any(o["note"] == note and "portal-tester" in o["recorded_by"] for o in shown)
    with session_scope(world.town.settings().database_url) as db:
        from warehouse.models import Outcome

        rows = db.execute(select(Outcome).where(Outcome.entry_id == entry_id)).scalars()
        assert all(note.encode() not in (r.note_sealed or b"") for r in rows)
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=9, days=1)).date().isoformat()
    the_day_before = (dt.date.fromisoformat(world.date) - dt.timedelta(days=1)).isoformat()
    for dates, reason in (
        (("--visited-on", tomorrow), "訪問日"),
        (("--visited-on", world.date, "--follow-up-on", the_day_before), "次回確認日"),
    ):
        refused = _cli(world, "outcome", "record", "--entry-id", entry_id, "--outcome", "not_home", *dates)
        assert refused.returncode == 1, refused.stdout
        assert reason in refused.stderr and " / " in refused.stderr


def test_security_headers_and_no_store_on_every_page(world: World) -> None:
    client, _ = sign_in(world, world.town.logins["north"])
    for path in ("/login", f"/lists?date={world.date}", f"/entries/{world.entries['D01']}", "/healthz"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert "unsafe-inline" not in headers["content-security-policy"], path
        assert headers["referrer-policy"] == "no-referrer" and headers["x-content-type-options"] == "nosniff"
        assert headers["cache-control"] == "no-store", path
    cookie = TestClient(world.app, base_url=BASE).post(
        "/api/v1/session", json={"login": "north", "password": world.town.logins["north"].password}
    )
    assert "httponly" in cookie.headers["set-cookie"].lower()
    assert "samesite=strict" in cookie.headers["set-cookie"].lower()


def test_sign_in_failures_401_and_lockout_429(world: World, tmp_path: Path) -> None:
    client = TestClient(world.app, base_url=BASE)
    north = world.town.logins["north"]
    for _ in range(4):
        wrong = client.post("/api/v1/session", json={"login": "north", "password": "wrong-password-x"})
        assert wrong.status_code == 401
    right = client.post("/api/v1/session", json={"login": "north", "password": north.password})
    assert right.status_code == 200  # a success resets the count
    for _ in range(5):
        client.post("/api/v1/session", json={"login": "north", "password": "wrong-password-x"})
    locked = client.post("/api/v1/session", json={"login": "north", "password": north.password})
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    with session_scope(world.town.settings().database_url) as db:
        from warehouse.account_models import AccountRecord

        record = db.execute(select(AccountRecord).where(AccountRecord.login == "north")).scalar_one()
        record.locked_until, record.failed_signins = None, 0
