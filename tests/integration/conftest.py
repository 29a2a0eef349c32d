"""Databases for integration tests: a SQLite file and a fresh PostgreSQL database per test.

PostgreSQL and Redis run on the development and CI machines. Where one is unreachable its tests are skipped
with one reason, except in CI (CI=true), where that is a failure. With MIMAMORI_TEST_DATABASE=postgresql
(`make test-postgres`), every data home's warehouse is a fresh PostgreSQL database instead of SQLite.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

# PostgreSQL (trust auth) and Redis as on the development and CI machines; override for other setups.
PG_ADMIN_URL = os.environ.get("MIMAMORI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("MIMAMORI_TEST_REDIS_URL", "redis://127.0.0.1:6379")
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
POSTGRES_WAREHOUSE = os.environ.get("MIMAMORI_TEST_DATABASE", "sqlite") == "postgresql"
OWN_DATABASE = {"postgres_url", "database_url", "pg_admin_url"}


def require(service: str, url: str, connect: Callable[[], object]) -> None:
    """Skip when the server is unreachable, or fail in CI, where every server must be up."""
    try:
        connect()
    except Exception as error:
        if IN_CI:
            reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
            pytest.fail(f"CI=true: {service} at {url} is unreachable: {reason}", pytrace=False)
        pytest.skip(f"{service} not reachable at {url}: its tests are skipped here (CI runs them)")


def _connect_postgres() -> None:
    engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 5})
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """The PostgreSQL server's admin URL, for tests that make their own databases."""
    require("PostgreSQL", PG_ADMIN_URL, _connect_postgres)
    return PG_ADMIN_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis server's URL without a database number (each test picks its own)."""
    import redis

    require("Redis", REDIS_URL, lambda: redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5).ping())
    return REDIS_URL


@pytest.fixture
def postgres_url(pg_admin_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    name = f"mimamori_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        from warehouse.db import engine_for

        engine_for(url).dispose()
        engine_for.cache_clear()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def home(home: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fresh data home; with MIMAMORI_TEST_DATABASE=postgresql, a new PostgreSQL database as warehouse."""
    if POSTGRES_WAREHOUSE:
        monkeypatch.setenv("MIMAMORI_DATABASE_URL", request.getfixturevalue("postgres_url"))
    return home


def _follows_home(fixtures: set[str]) -> bool:
    return "home" in fixtures and not fixtures & OWN_DATABASE


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, keep the tests whose warehouse follows the data home (others ran already)."""
    if not POSTGRES_WAREHOUSE:
        return
    keep = [i for i in items if _follows_home(set(getattr(i, "fixturenames", ())))]
    config.hook.pytest_deselected(items=[i for i in items if i not in keep])
    items[:] = keep


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The warehouse URL on each supported engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.db'}"
    return str(request.getfixturevalue("postgres_url"))


REGISTER = (
    "resident_id,name_kanji,name_kana,birth_date,sex,address,district_code,household_id,household_size,phone,"
    "status,status_date\n"
    "0000000001,山田　花子,ヤマダ　ハナコ,1940-03-02,F,神奈川県みどり市本町1丁目2番3号,"
    "D01,H1,1,046-111-2222,active,2000-01-01\n"
    "0000000002,鈴木　一郎,スズキ　イチロウ,1938-05-06,M,神奈川県みどり市栄町4丁目5番6号,"
    "D01,H2,1,046-333-4444,active,2000-01-01\n"
)
CONSENTS = (
    "resident_id,consent_id,scope_partners,scope_sectors,purpose,granted_on,expires_on,withdrawn_on,method,"
    "evidence_ref,proxy_name,proxy_relation\n"
    "0000000001,C-1,*,*,watch_over,2026-01-01,2027-12-31,,paper,P-1,,\n"
    "0000000002,C-2,*,*,watch_over,2026-01-01,2027-12-31,,paper,P-2,,\n"
)
HEADER = "partner_customer_id,name_kana,name_kanji,birth_date,address,phone,event_time,event_type\n"
# Hanako fully identified; Ichiro with kana and address only (no kanji, no birth date): a case for review.
ROWS = (
    "KC1,ﾔﾏﾀﾞ ﾊﾅｺ,山田花子,19400302,本町1-2-3,,{day}T10:00:00,handed_over\n"
    "KC2,ｽｽﾞｷ ｲﾁﾛｳ,,,栄町4-5-6,,{day}T11:00:00,no_answer\n"
    "KC2,ｽｽﾞｷ ｲﾁﾛｳ,,,栄町4-5-6,,{day}T15:00:00,no_answer\n"
)


def deliver(home: Path, day: str, end: str) -> None:
    folder = home / "inbox" / "kanda-coop" / f"{end.replace('-', '')}-01"
    folder.mkdir(parents=True)
    body = (HEADER + ROWS.format(day=day)).encode("cp932")
    (folder / "events.csv").write_bytes(body)
    (folder / "manifest.json").write_text(
        json.dumps(
            {
                "spec_version": "1",
                "partner_id": "kanda-coop",
                "sector": "delivery",
                "delivery_id": folder.name,
                "period_start": f"{day}T00:00:00+09:00",
                "period_end": f"{end}T00:00:00+09:00",
                "files": [{"name": "events.csv", "sha256": hashlib.sha256(body).hexdigest(), "rows": 3}],
                "created_at": f"{end}T04:00:00+09:00",
            }
        )
    )


@pytest.fixture
def tiny(home: Path) -> Path:
    """A home with two consented residents and two days of co-op deliveries, one identity needing review."""
    (home / "register").mkdir()
    (home / "register" / "register_20261101.csv").write_text(REGISTER, encoding="utf-8")
    (home / "consents").mkdir()
    (home / "consents" / "consents_20261101.csv").write_text(CONSENTS, encoding="utf-8")
    (home / "municipality.yaml").write_text(
        "code: '149999'\nprefecture: 神奈川県\ncity: みどり市\ndistricts: {D01: 北部}\n", encoding="utf-8"
    )
    (home / "partners.yaml").write_text(
        "partners:\n  - id: kanda-coop\n    name: かんだ生協\n    sector: delivery\n    encoding: cp932\n"
        "    due_by: '06:00'\n    agreement: {ref: K, valid_from: 2025-04-01, valid_to: 2028-03-31}\n"
        "    codes: {受渡済: handed_over, 不在: no_answer}\n",
        encoding="utf-8",
    )
    deliver(home, "2026-11-01", "2026-11-02")
    deliver(home, "2026-11-02", "2026-11-03")
    return home


@pytest.fixture(scope="session")
def airflow_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Airflow metadata database migrated once, copied into each test's home (see dag_runner.run_dags)."""
    import subprocess
    import sys

    folder = tmp_path_factory.mktemp("airflow-template")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{folder / 'airflow.db'}",
    }
    airflow = str(Path(sys.executable).with_name("airflow"))
    done = subprocess.run([airflow, "db", "migrate"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return folder / "airflow.db"
