"""The steward's pages over one small town: a week's work from the portal alone, each step audited.

The town has a co-op delivery re-saved as UTF-8 although the co-op declares CP932 (quarantined) and two
pairs waiting in link review.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient
from portal_town import CLI, PortalTown, build_town
from sqlalchemy import func, select
from steward_town import (
    WRONG_ENCODING,
    add_reviews,
    consent_rows,
    cp932_form,
    newcomer,
    utf8_instead_of_cp932,
)

from consent.book import latest_records
from consent.importer import COLUMNS
from mimamori import jobs, steward_jobs
from mimamori.settings import AirflowApi
from portal.app import create_app
from portal.second_factor import current_code
from warehouse.db import session_scope, utcnow
from warehouse.job_models import StewardJob
from warehouse.models import AuditRecord, ConsentRecord, Delivery, LinkReview, ProvisionRecord

pytestmark = pytest.mark.integration
BASE = "http://127.0.0.1"


@dataclass
class Desk:
    """The town, a steward's signed-in client and the form token its pages carry."""

    town: PortalTown
    client: TestClient
    csrf: str
    reviews: list[int]

    def db(self):  # type: ignore[no-untyped-def]
        return session_scope(self.town.settings().database_url)

    def post(self, path: str, **data: str):  # type: ignore[no-untyped-def]
        return self.client.post(path, data={"csrf_token": self.csrf, **data}, follow_redirects=False)


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Desk:
    town = build_town(
        tmp_path_factory.mktemp("steward") / "home", residents=150, days=2, prepare=utf8_instead_of_cp932
    )
    reviews = add_reviews(town.settings(), 2)
    now = utcnow()
    client = TestClient(create_app(town.settings(), secure_cookies=False, clock=lambda: now), base_url=BASE)
    who = town.logins["steward"]
    answer = client.post(
        "/api/v1/session",
        json={"login": "steward", "password": who.password, "otp": current_code(who.totp_secret, now)},
    )
    assert answer.status_code == 200, answer.text
    return Desk(town, client, answer.json()["csrf_token"], reviews)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def audits(desk: Desk, action: str) -> list[AuditRecord]:
    with desk.db() as db:
        return list(db.execute(select(AuditRecord).where(AuditRecord.action == action)).scalars())


def test_quarantine_says_in_japanese_what_to_do_and_release_needs_a_reason_and_a_confirmation(desk: Desk):
    page = text(desk.client.get("/steward/quarantine").text)
    assert "協定で決めた文字コード" in page and "宣言した文字コード" in page
    with desk.db() as db:
        held = db.execute(
            select(Delivery).where(Delivery.partner_id == WRONG_ENCODING, Delivery.status == "quarantined")
        ).scalar_one()
        pk = held.id
    assert desk.post(f"/steward/deliveries/{pk}/decide", decision="release", why="").status_code == 422
    confirm = desk.post(f"/steward/deliveries/{pk}/decide", decision="release", why="再送を確認した")
    assert confirm.status_code == 200 and "解放の確認" in confirm.text
    with desk.db() as db:
        assert db.get(Delivery, pk).status == "quarantined", "the first answer only asks to confirm"
    done = desk.post(
        f"/steward/deliveries/{pk}/decide", decision="release", why="再送を確認した", confirmed="yes"
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/steward/jobs/")
    shown = finished(desk, done.headers["location"])
    assert "保留した配信の解放（完了）" in shown and "1 / 1 件" in shown, shown[:400]
    with desk.db() as db:
        assert db.get(Delivery, pk).status == "released"
    (record,) = [r for r in audits(desk, "quarantine_release") if r.actor == "portal:steward"]
    assert record.detail["why"] == "再送を確認した"


def test_link_review_shows_one_pair_with_differences_and_the_decision_is_audited(desk: Desk):
    page = desk.client.get("/steward/links").text
    assert "1</strong> / 2 組" in page
    assert page.count('class="diff"') == 4  # address and phone differ, marked on both sides
    reads = [r for r in audits(desk, "vault_read") if r.detail.get("purpose") == "link_review"]
    assert reads and reads[-1].actor == "portal:steward"
    first = desk.reviews[0]
    assert desk.post(f"/steward/links/{first}/decide", decision="accept", at="1").status_code == 303
    with desk.db() as db:
        assert db.get(LinkReview, first).status == "accepted"
        assert db.get(LinkReview, first).decided_by == "portal:steward"
    assert "1</strong> / 1 組" in desk.client.get("/steward/links?at=1&done=accepted").text


def _resident_with_consent(desk: Desk) -> tuple[str, str]:
    """A resident id (from the demo's consent forms) whose consent is in force, and that consent's id."""
    with desk.db() as db:
        live = {r.consent_id for r in latest_records(db) if r.withdrawn_on is None}
    row = next(r for r in consent_rows(desk.town.home) if r["consent_id"] in live)
    return row["resident_id"], row["consent_id"]


def test_search_by_resident_shows_the_person_audited_and_withdraw_takes_two_steps(desk: Desk):
    resident_id, consent_id = _resident_with_consent(desk)
    found = desk.post("/steward/consents/search", query=resident_id)
    assert found.status_code == 200 and consent_id in found.text
    assert resident_id not in str(found.url)
    searches = [r for r in audits(desk, "consent_search") if consent_id in r.subject]
    assert searches and searches[-1].actor == "portal:steward"
    assert desk.post("/steward/consents/search", query="9999999999").status_code == 404
    today = (utcnow() + dt.timedelta(hours=9)).date().isoformat()
    asked = desk.post(f"/steward/consents/{consent_id}/withdraw", on=today, why="本人から電話")
    assert "撤回の確認" in asked.text
    with desk.db() as db:
        assert (
            db.execute(
                select(ConsentRecord).where(
                    ConsentRecord.consent_id == consent_id, ConsentRecord.withdrawn_on.is_not(None)
                )
            ).first()
            is None
        )
    done = desk.post(
        f"/steward/consents/{consent_id}/withdraw", on=today, why="本人から電話", confirmed="yes"
    )
    assert done.status_code == 200 and "次回の実行で削除" in text(done.text)
    with desk.db() as db:
        newest = (
            db.execute(
                select(ConsentRecord)
                .where(ConsentRecord.consent_id == consent_id)
                .order_by(ConsentRecord.version.desc())
            )
            .scalars()
            .first()
        )
        assert newest is not None and newest.status == "withdrawn" and newest.recorded_by == "portal:steward"


def test_a_cp932_form_is_previewed_without_writing_then_imported(desk: Desk):
    resident_id = newcomer(desk.town.home, desk.town.dates[-1])
    body = cp932_form(resident_id, desk.town.dates[0], "C-PORTAL-1", "C-PORTAL-2", {"method": "fax"})
    with desk.db() as db:
        before = db.execute(select(func.count()).select_from(ConsentRecord)).scalar_one()
    preview = desk.client.post(
        "/steward/consents/import",
        data={"csrf_token": desk.csrf},
        files={"form": ("同意書.csv", body, "text/csv")},
    )
    assert preview.status_code == 200, preview.text[-500:]
    shown = text(preview.text)
    assert "受け付ける行 1" in shown and "受け付けない行 1" in shown and "方法は" in shown
    with desk.db() as db:
        assert db.execute(select(func.count()).select_from(ConsentRecord)).scalar_one() == before
    token = re.search(r'name="token" value="([0-9a-f]{64})"', preview.text)
    assert token
    done = desk.post("/steward/consents/import/commit", token=token.group(1))
    assert done.status_code == 200 and "1行を記録しました" in text(done.text)
    with desk.db() as db:
        assert db.execute(select(func.count()).select_from(ConsentRecord)).scalar_one() == before + 1
        added = db.execute(select(ConsentRecord).where(ConsentRecord.consent_id == "C-PORTAL-1")).scalar_one()
        assert added.recorded_by == "portal:steward" and added.proxy_relation == "長女"
    assert not list((desk.town.home / "consents" / "pending").glob("*")), "the held upload is gone"
    again = desk.post("/steward/consents/import/commit", token=token.group(1))
    assert again.status_code == 422


def test_provision_log_on_screen_and_as_csv(desk: Desk):
    first, last = desk.town.dates[0], desk.town.dates[-1]
    with desk.db() as db:
        count = db.execute(select(func.count()).select_from(ProvisionRecord)).scalar_one()
    answer = desk.client.get(f"/steward/provision.csv?start={first}&end={last}")
    assert answer.status_code == 200 and answer.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["日付", "事業者", "種別"] and len(rows) - 1 >= count > 0
    assert f"{count}件" in text(desk.client.get(f"/steward/provision?start={first}&end={last}").text)


def test_disclosure_report_from_the_portal_and_the_command_agree_and_are_audited(desk: Desk):
    resident_id, consent_id = _resident_with_consent(desk)
    report = desk.post("/steward/disclosure", resident_id=resident_id)
    assert report.status_code == 200
    shown = text(report.text)
    assert "保有個人データの開示" in shown and consent_id in shown and "データを提供した事業者" in shown
    assert "sha256-" in report.headers["content-security-policy"]
    assert [r.actor for r in audits(desk, "disclosure")][-1] == "portal:steward"
    made = subprocess.run(
        [CLI, "consent", "disclose", resident_id, "--format", "json"],
        env=desk.town.environ(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert made.returncode == 0, made.stderr
    document = json.loads(made.stdout)
    assert consent_id in [c["consent_id"] for c in document["consents"]]
    assert any(s["actor"] == "portal:steward" for s in document["seen_by"]), "the portal's reads are listed"


def test_feeds_grid_marks_the_quarantined_day_and_opens_its_delivery(desk: Desk):
    page = desk.client.get("/steward/feeds").text
    cells = re.findall(r'<a class="(\w+)" href="/steward/deliveries/(\d+)"', page)
    assert cells and {"on_time"} <= {c for c, _ in cells}
    opened = desk.client.get(f"/steward/deliveries/{cells[0][1]}")
    assert opened.status_code == 200 and "提供記録" in opened.text


def finished(desk: Desk, location: str) -> str:
    """The job page's text once the job has ended (reloading it as a steward would)."""
    deadline = time.monotonic() + 120
    while True:
        shown = desk.client.get(location)
        assert shown.status_code == 200
        if "（完了）" in shown.text or "（中断）" in shown.text or time.monotonic() > deadline:
            return text(shown.text)
        time.sleep(0.5)


def preview_form(desk: Desk, count: int, prefix: str) -> str:
    """Upload a form of `count` consents (row 8 refused: an unknown method); returns the preview's token."""
    rows = [dict.fromkeys(COLUMNS, "") for _ in range(count)]
    for n, row in enumerate(rows):
        row.update(
            resident_id=f"{prefix}{n:09d}",
            consent_id=f"C-BULK-{prefix}-{n}",
            scope_partners="*",
            scope_sectors="*",
            purpose="watch_over",
            granted_on=desk.town.dates[0],
            method="paper",
        )
    rows[7]["method"] = "fax"
    body = "\n".join([",".join(COLUMNS), *(",".join(r[c] for c in COLUMNS) for r in rows)]).encode()
    preview = desk.client.post(
        "/steward/consents/import",
        data={"csrf_token": desk.csrf},
        files={"form": (f"bulk{prefix}.csv", body, "text/csv")},
    )
    token = re.search(r'name="token" value="([0-9a-f]{64})"', preview.text)
    assert token, preview.text[-300:]
    return token.group(1)


def test_a_large_import_runs_in_process_and_its_progress_survives_a_reload(desk: Desk):
    token = preview_form(desk, 2500, "8")
    started = desk.post("/steward/consents/import/commit", token=token)
    assert started.status_code == 303 and started.headers["location"].startswith("/steward/jobs/")
    assert "（完了）" in finished(desk, started.headers["location"])
    again = text(desk.client.get(started.headers["location"]).text)
    assert "2500 / 2500 行（100%）" in again and "記録 2499" in again and "受け付けない行 1" in again
    with desk.db() as db:
        job = db.get(StewardJob, started.headers["location"].rsplit("/", 1)[-1])
        assert (job.status, job.done, job.summary["added"], job.started_by) == (
            "done",
            2500,
            2499,
            "portal:steward",
        )
        bulk = db.execute(
            select(func.count()).select_from(ConsentRecord).where(ConsentRecord.consent_id.like("C-BULK-8-%"))
        ).scalar_one()
        assert bulk == 2499


class FakeAirflow(BaseHTTPRequestHandler):
    """Airflow 3's API as far as the portal uses it: a JWT for the right password, then a queued DAG run."""

    posted: ClassVar[list[tuple[str, str, dict]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.posted.append((self.path, self.headers.get("Authorization", ""), body))
        if self.path == "/auth/token":
            ok = body == {"username": "portal", "password": "s3cret"}
            self._answer(201 if ok else 401, {"access_token": "jwt-1"} if ok else {})
        elif self.headers.get("Authorization") != "Bearer jwt-1":
            self._answer(401, {"detail": "Not authenticated"})
        else:
            self._answer(200, {"dag_run_id": "manual__2026", "state": "queued", "conf": body["conf"]})

    def _answer(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def airflow() -> Iterator[str]:
    FakeAirflow.posted.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAirflow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_in_production_a_large_import_is_a_dag_run_whose_task_completes_the_job(
    desk: Desk, airflow: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(steward_jobs, "INLINE_ROWS", 5)  # a small form stands in for a large one
    settings = replace(desk.town.settings(), airflow_api=AirflowApi(airflow, "portal", "s3cret"))
    monkeypatch.setattr(desk.client.app.state.context, "settings", settings)
    started = desk.post("/steward/consents/import/commit", token=preview_form(desk, 12, "7"))
    monkeypatch.setattr(desk.client.app.state.context, "settings", desk.town.settings())
    assert started.status_code == 303
    job_id = started.headers["location"].rsplit("/", 1)[-1]
    (sign_in, trigger) = FakeAirflow.posted  # the fake refuses a wrong password or token
    assert sign_in[0] == "/auth/token" and trigger == (
        "/api/v2/dags/mimamori_steward_jobs/dagRuns",
        "Bearer jwt-1",
        {"logical_date": None, "conf": {"job_id": job_id}},
    )
    time.sleep(1)  # nothing runs in the portal: the job waits for its DAG run
    queued = text(desk.client.get(started.headers["location"]).text)
    assert "同意書の取込（待機中）" in queued and "0 / 12 行" in queued, queued[:400]
    for name, value in desk.town.environ().items():
        if name.startswith("MIMAMORI_"):
            monkeypatch.setenv(name, value)
    assert jobs.run_steward_job(job_id) == "done"  # what the DAG's task does on a worker
    done = text(desk.client.get(started.headers["location"]).text)
    assert "同意書の取込（完了）" in done and "12 / 12 行" in done and "記録 11" in done, done[:400]


def test_when_airflow_cannot_be_reached_the_job_says_so(desk: Desk, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(steward_jobs, "INLINE_ROWS", 5)
    with socket.socket() as closed:  # a port that was free a moment ago: nothing answers there
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    settings = replace(desk.town.settings(), airflow_api=AirflowApi(url, "portal", "s3cret"))
    monkeypatch.setattr(desk.client.app.state.context, "settings", settings)
    started = desk.post("/steward/consents/import/commit", token=preview_form(desk, 9, "6"))
    shown = text(desk.client.get(started.headers["location"]).text)
    assert "同意書の取込（中断）" in shown and "Airflow に処理を依頼できませんでした" in shown, shown[:400]
    assert "s3cret" not in shown
