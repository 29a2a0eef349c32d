"""Latency of the portal's district list page and API list for a district of 300 entries, signed in.

    .venv/bin/python bench/portal.py [--entries 300] [--requests 200] [--residents 3000] [--keep DIR]

Writes a synthetic town (the real `mimamori demo` and `mimamori run` for its second day), then fills
one district's list up to --entries with more consented residents (each with two reasons, as the build
writes them; residents of other districts are moved into it when it has too few), adds an outreach
account for that district, starts `mimamori serve` on 127.0.0.1 and a free port, signs in, and times
--requests sequential GET requests of each URL over HTTP. Every request re-identifies and audits the
whole list, as a real reader's does. Prints p50/p95/max.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

# This file is named like the package it measures: keep its own folder off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import httpx  # noqa: E402
from sqlalchemy import func, select, update  # noqa: E402

from mimamori.settings import DEPLOYMENT_VARIABLES, load_settings  # noqa: E402
from portal.account_admin import create_account  # noqa: E402
from warehouse.db import migrate, session_scope, utcnow  # noqa: E402
from warehouse.models import IdentityVault, WatchlistEntry, WatchlistReason, WatchPopulation  # noqa: E402

CLI = str(Path(sys.executable).with_name("mimamori"))
DISTRICT = "D01"
PASSWORD = "yuugure-no-kane-2026"
TIERS = ("urgent", "high", "high", "watch", "watch", "watch")


def environ(home: Path) -> dict[str, str]:
    env = {**os.environ, "MIMAMORI_HOME": str(home), "MIMAMORI_ACTOR": "bench"}
    for name in DEPLOYMENT_VARIABLES:
        env.pop(name, None)
    return env


def cli(home: Path, *args: str) -> None:
    result = subprocess.run([CLI, *args], env=environ(home), capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(result.stderr[-2000:])


def fill_district(home: Path, day: dt.date, wanted: int) -> int:
    """Add entries for more of the district's consented residents until the list holds `wanted`."""
    settings = load_settings({"MIMAMORI_HOME": str(home), "MIMAMORI_ACTOR": "bench"})
    with session_scope(settings.database_url) as db:
        listed = set(
            db.execute(
                select(WatchlistEntry.resident).where(
                    WatchlistEntry.run_date == day, WatchlistEntry.district_code == DISTRICT
                )
            ).scalars()
        )
        template = db.execute(
            select(WatchlistEntry).where(WatchlistEntry.run_date == day).limit(1)
        ).scalar_one()
        # Consented residents of the district first; when it has too few, residents of the other
        # districts are moved into it (vault and population), as if the district were larger.
        spare = [
            v
            for v in db.execute(
                select(IdentityVault).order_by(
                    IdentityVault.district_code != DISTRICT, IdentityVault.resident
                )
            ).scalars()
            if v.resident not in listed
            and not db.execute(
                select(WatchlistEntry.entry_id).where(
                    WatchlistEntry.run_date == day, WatchlistEntry.resident == v.resident
                )
            ).first()
        ]
        for n, vault in enumerate(spare[: max(0, wanted - len(listed))]):
            resident, vault.district_code = vault.resident, DISTRICT
            db.execute(
                update(WatchPopulation)
                .where(WatchPopulation.resident == resident)
                .values(district_code=DISTRICT)
            )
            entry_id = f"WL-{day:%Y%m%d}-bench{n:05d}"
            db.add(
                WatchlistEntry(
                    entry_id=entry_id,
                    run_date=day,
                    resident=resident,
                    district_code=DISTRICT,
                    tier=TIERS[n % len(TIERS)],
                    score=round(8 - (n % 50) / 10, 2),
                    rule_set_version=template.rule_set_version,
                    run_id=template.run_id,
                )
            )
            db.flush()
            start = dt.datetime.combine(day, dt.time(9)) - dt.timedelta(days=2)
            db.add_all(
                [
                    WatchlistReason(
                        entry_id=entry_id,
                        rule_id="delivery_no_answer",
                        rule_version="1",
                        score=3.0,
                        text_ja="配達時に応答がありません（2回、ひかり配食サービス）",
                        text_en="No answer at the door (2x; hikari-bento)",
                        partners=["hikari-bento"],
                        sectors=["delivery"],
                        evidence_from=start,
                        evidence_to=start + dt.timedelta(days=1),
                    ),
                    WatchlistReason(
                        entry_id=entry_id,
                        rule_id="water_none",
                        rule_version="1",
                        score=2.0,
                        text_ja="水道の使用が丸1日ありません（みなと水道）",
                        text_en="No water used for a whole day (minato-suido)",
                        partners=["minato-suido"],
                        sectors=["utility"],
                        evidence_from=start,
                        evidence_to=start + dt.timedelta(days=1),
                    ),
                ]
            )
        create_account(
            db,
            login="bench",
            role="outreach",
            districts=[DISTRICT],
            display_name="bench",
            password=PASSWORD,
            totp=False,
            vault_keys=settings.vault_keys,
            known_districts=[DISTRICT, "D02", "D03", "D04"],
            actor="bench",
            now=utcnow(),
        )
        count = db.execute(
            select(func.count())
            .select_from(WatchlistEntry)
            .where(WatchlistEntry.run_date == day, WatchlistEntry.district_code == DISTRICT)
        ).scalar_one()
    return int(count)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def timed(client: httpx.Client, url: str, requests: int) -> list[float]:
    times = []
    for _ in range(requests):
        began = time.perf_counter()
        answer = client.get(url)
        times.append((time.perf_counter() - began) * 1000)
        answer.raise_for_status()
    return times


def report(label: str, times: list[float]) -> None:
    ordered = sorted(times)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    print(
        f"{label:<44} n={len(times)}  p50 {statistics.median(ordered):7.1f} ms  "
        f"p95 {p95:7.1f} ms  max {ordered[-1]:7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--entries", type=int, default=300)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--residents", type=int, default=3000)
    parser.add_argument("--keep", type=Path, help="keep the data home here (default: a temporary folder)")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-portal-"))
    home = folder / "home"
    began = time.monotonic()
    cli(home, "demo", "--residents", str(args.residents), "--days", "2", "--seed", "5")
    day = json.loads(home.with_name("home.truth.json").read_text(encoding="utf-8"))["run_dates"][-1]
    cli(home, "run", "--date", day)
    migrate(load_settings({"MIMAMORI_HOME": str(home)}).database_url)
    listed = fill_district(home, dt.date.fromisoformat(day), args.entries)
    print(
        f"town: {args.residents} residents, {DISTRICT} list of {listed} entries on {day} "
        f"({time.monotonic() - began:.0f} s to build)"
    )
    port = free_port()
    server = subprocess.Popen(
        [CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=environ(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        with httpx.Client(base_url=base, timeout=60) as client:
            signed = client.post("/api/v1/session", json={"login": "bench", "password": PASSWORD})
            signed.raise_for_status()
            page = client.get(f"/lists?date={day}")
            assert page.text.count('class="card ') == listed, "the page must show the whole list"
            report(f"page  /lists?date={day}", timed(client, f"/lists?date={day}", args.requests))
            api = f"/api/v1/lists/{day}?district={DISTRICT}"
            report(f"api   {api}", timed(client, api, args.requests))
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
