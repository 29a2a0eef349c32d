"""Time building and publishing one day's watchlist for a large watched population, and its peak memory.

    .venv/bin/python bench/watchlist_speed.py [--residents 100000] [--days 28] [--meter-share 0.92]

A child process writes the data home: register and consent files brought in through the real
prepare step (population, consents, vault identities), then pseudonymous signals generated with numpy
straight into the warehouse (half-hourly electricity, daily water, deliveries, clinic and insurer
events; a small share of residents go quiet so the list has people to re-identify). This process
then runs the real build and publish steps and prints their wall times and its own peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from identity.pseudonym import pseudonymise
from mimamori import daily
from mimamori.eval_run import data_home
from mimamori.settings import load_settings
from mimamori.town.generate import _municipality_yaml
from mimamori.town.partners import PARTNERS, partners_yaml

RUN_DATE = dt.date(2026, 11, 29)
FMT = "%Y-%m-%d %H:%M:%S.%f"
REACH = {p.id: p.reach_alone for p in PARTNERS}
SECTOR = {p.id: p.sector for p in PARTNERS}
DISTRICTS = ("D01", "D02", "D03", "D04")
CHUNK = 400_000


def _files(home: Path, n: int, first: dt.date) -> None:
    """Municipality, partners, one register extract and one consent file for n single residents aged 65+."""
    (home / "register").mkdir(parents=True)
    (home / "consents").mkdir()
    (home / "municipality.yaml").write_text(_municipality_yaml(), encoding="utf-8")
    (home / "partners.yaml").write_text(partners_yaml(), encoding="utf-8")
    register = [
        "resident_id,name_kanji,name_kana,birth_date,sex,address,district_code,household_id,household_size,"
        "phone,status,status_date"
    ]
    consents = [
        "resident_id,consent_id,scope_partners,scope_sectors,purpose,granted_on,expires_on,withdrawn_on,"
        "method,evidence_ref,proxy_name,proxy_relation"
    ]
    for i in range(n):
        rid = f"{i + 1:010d}"
        birth = dt.date(1930 + i % 30, 1 + i % 12, 1 + i % 28).isoformat()
        register.append(
            f"{rid},山田　花子,ヤマダ　ハナコ,{birth},F,神奈川県みどり市本町{1 + i % 9}丁目{1 + i % 20}番"
            f"{1 + i % 30}号,{DISTRICTS[i % 4]},H{rid},1,046-{i % 1000:03d}-{i % 10000:04d},active,2000-01-01"
        )
        consents.append(f"{rid},C-{rid},*,*,watch_over,2026-01-01,2028-12-31,,paper,P-{rid},,")
    stamp = first.strftime("%Y%m%d")
    (home / "register" / f"register_{stamp}.csv").write_text("\n".join(register) + "\n", encoding="utf-8")
    (home / "consents" / f"consents_{stamp}.csv").write_text("\n".join(consents) + "\n", encoding="utf-8")


def _deliveries(db: sqlite3.Connection, days: list[dt.date], run_id: str) -> dict[tuple[str, dt.date], int]:
    """One loaded delivery per partner and day; returns (partner, day) -> delivery pk."""
    pks = {}
    now = dt.datetime(2026, 11, 29, 0, 0).strftime(FMT)
    for day in days:
        for p in PARTNERS:
            start = dt.datetime.combine(day, dt.time())
            cursor = db.execute(
                "INSERT INTO deliveries (partner_id, delivery_id, sector, period_start, period_end,"
                " created_at, received_at, status, files, rows_total, rows_loaded, run_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'loaded', '[]', 0, 0, ?)",
                (p.id, f"{day + dt.timedelta(days=1):%Y%m%d}-01", p.sector, start.strftime(FMT),
                 (start + dt.timedelta(days=1)).strftime(FMT), now, now, run_id),
            )  # fmt: skip
            pks[(p.id, day)] = int(cursor.lastrowid or 0)
    return pks


def _signals(
    g: np.random.Generator,
    who: list[str],
    consent: list[str],
    days: list[dt.date],
    pks: dict,
    quiet: np.ndarray,
) -> Iterator[tuple[object, ...]]:
    """Signal rows in the column order of the INSERT in generate()."""
    n = len(who)
    has = {p: g.random(n) < REACH[p] for p in REACH}
    level = g.uniform(0.5, 1.5, n)
    hours = np.arange(48) / 2
    shape = (
        0.08
        + 0.5 * ((hours >= 7) & (hours < 9))
        + 0.6 * ((hours >= 18) & (hours < 22))
        + 0.15 * ((hours >= 9) & (hours < 18))
    )
    stop = dt.datetime.combine(days[-1], dt.time(6))  # quiet residents: flat from 06:00 on the last day
    for day in days:
        base = dt.datetime.combine(day, dt.time())
        slots = [(base + dt.timedelta(minutes=30 * k)) for k in range(49)]
        text = [s.strftime(FMT) for s in slots]
        use = np.round(level[:, None] * shape[None, :] * g.uniform(0.6, 1.4, (n, 48)), 3)
        pk = pks[("midori-denki", day)]
        for i in np.flatnonzero(has["midori-denki"]):
            row = use[i]
            for k in range(48):
                value = 0.08 if quiet[i] and slots[k] >= stop else float(row[k])
                yield (pk, who[i], "midori-denki", "utility", "reading", "electricity", text[k], text[k + 1],
                       value, "kWh", consent[i])  # fmt: skip
        water = g.uniform(0.1, 0.4, n)
        pk = pks[("minato-suido", day)]
        end = (base + dt.timedelta(days=1)).strftime(FMT)
        for i in np.flatnonzero(has["minato-suido"]):
            value = 0.0 if quiet[i] and day == days[-1] else round(float(water[i]), 3)
            yield (pk, who[i], "minato-suido", "utility", "reading", "water", text[0], end, value, "m3",
                   consent[i])  # fmt: skip
        for partner, share in (("kanda-coop", 1 / 7), ("hikari-bento", 5 / 7), ("aoba-clinic", 1 / 30)):
            pk = pks[(partner, day)]
            event = {"aoba-clinic": "attended"}.get(partner, "handed_over")
            for i in np.flatnonzero(has[partner] & (g.random(n) < share)):
                kind = "no_answer" if quiet[i] and day == days[-1] and partner != "aoba-clinic" else event
                at = (base + dt.timedelta(hours=10, minutes=int(i % 360))).strftime(FMT)
                yield (pk, who[i], partner, SECTOR[partner], "event", kind, at, None, None, None, consent[i])
        pk = pks[("sakura-life", day)]
        for i in np.flatnonzero(has["sakura-life"] & (g.random(n) < 0.002)):
            yield (pk, who[i], "sakura-life", "insurer", "event", "premium_overdue", text[0], None, None,
                   None, consent[i])  # fmt: skip


def generate(home: Path, residents: int, days: int, quiet_share: float, seed: int) -> None:
    """Write the home and warehouse, then print the open run's id for the parent."""
    first = RUN_DATE - dt.timedelta(days=days)
    _files(home, residents, first)
    with data_home(home):
        run_id = daily.open_run(RUN_DATE.isoformat())
        daily.prepare(run_id)
        settings = load_settings()
        keys = settings.pseudonym_keys
        who = [pseudonymise(keys, f"{i + 1:010d}") for i in range(residents)]
        consent = [f"C-{i + 1:010d}" for i in range(residents)]
        dates = [first + dt.timedelta(days=d) for d in range(days)]
        g = np.random.default_rng(seed)
        quiet = g.random(residents) < quiet_share
        db = sqlite3.connect(home / "warehouse.db")
        db.execute("PRAGMA synchronous=OFF")
        pks = _deliveries(db, dates, run_id)
        rows = _signals(g, who, consent, dates, pks, quiet)
        insert = (
            "INSERT INTO signals (delivery_pk, resident, partner_id, sector, kind, event_type, event_start,"
            " event_end, value, unit, consent_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        total = 0
        while chunk := [row for _, row in zip(range(CHUNK), rows, strict=False)]:
            db.executemany(insert, chunk)
            total += len(chunk)
        db.executemany(
            "INSERT INTO feed_health (partner_id, day, sector, status, rows) VALUES (?, ?, ?, 'on_time', 1)",
            [(p.id, RUN_DATE.isoformat(), p.sector) for p in PARTNERS],
        )
        db.commit()
        db.close()
    print(run_id, total, int(quiet.sum()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument(
        "--quiet-share", type=float, default=0.01, help="residents who go quiet on the last day"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--generate", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate, args.residents, args.days, args.quiet_share, args.seed)
        return
    with tempfile.TemporaryDirectory(prefix="mimamori-speed-") as folder:
        home = Path(folder) / "home"
        began = time.monotonic()
        child = subprocess.run(
            [sys.executable, __file__, "--generate", str(home), "--residents", str(args.residents),
             "--days", str(args.days), "--quiet-share", str(args.quiet_share), "--seed", str(args.seed)],
            capture_output=True, text=True,
        )  # fmt: skip
        if child.returncode != 0:
            sys.exit(f"generation failed: {child.stderr[-2000:]}")
        run_id, rows, quiet = child.stdout.split()[-3:]
        generated = time.monotonic() - began
        size = (home / "warehouse.db").stat().st_size / 2**30
        with data_home(home):
            began = time.monotonic()
            built = daily.build(run_id)
            build_s = time.monotonic() - began
            began = time.monotonic()
            daily.publish(run_id)
            publish_s = time.monotonic() - began
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"residents {args.residents}  days {args.days}  signals {int(rows):,}  quiet {quiet}  "
        f"warehouse {size:.2f} GiB  generated in {generated:.0f} s  cores {os.cpu_count()}"
    )
    print(f"watched {built['population']}  tiers {built['tiers']}")
    print(
        f"build {build_s:.1f} s  publish {publish_s:.1f} s  total {build_s + publish_s:.1f} s  "
        f"peak RSS {peak:.0f} MB"
    )


if __name__ == "__main__":
    main()
