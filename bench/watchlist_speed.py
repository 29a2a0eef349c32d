"""Time building and publishing one day's watchlist for a large watched population, and its peak memory.

    .venv/bin/python bench/watchlist_speed.py [--residents 100000] [--days 28] [--meter-share 0.92]

A child process writes the data home: register and consent files brought in through the real
prepare step (population, consents, vault identities), then pseudonymous data generated with numpy
straight into the warehouse, as a warehouse looks on the 28th morning:
- delivery, clinic and insurer events of every day, in `signals`;
- the earlier days' half-hourly electricity and daily water as the mornings before summarised them,
  in `reading_days` (writing 130 million half-hourly signal rows only to summarise them here would
  take hours and measure nothing the last day does not);
- the last day's readings (48 a day per electricity customer) loaded through the real loader, which
  writes the signals and summarises them into reading days, as every ingest does (timed apart:
  it is part of ingesting, not of the build).
A small share of residents go quiet on the last day, so the list has people to re-identify. This process
then runs the real build and publish steps and prints their wall times and its own peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from identity.pseudonym import pseudonymise
from mimamori import daily
from mimamori.context import RunContext
from mimamori.settings import process_environment
from mimamori_demo.eval_run import home_environment
from mimamori_demo.town.generate import _municipality_yaml
from mimamori_demo.town.partners import PARTNERS, partners_yaml
from warehouse.db import session_scope
from warehouse.load import load_signals
from warehouse.reading_days import summarise

RUN_DATE = dt.date(2026, 11, 29)
FMT = "%Y-%m-%d %H:%M:%S.%f"
REACH = {p.id: p.reach_alone for p in PARTNERS}
SECTOR = {p.id: p.sector for p in PARTNERS}
DISTRICTS = ("D01", "D02", "D03", "D04")
CHUNK = 400_000
# (partner, day) -> the pk of that day's delivery
DeliveryPks = dict[tuple[str, dt.date], int]


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


def _deliveries(db: sqlite3.Connection, days: list[dt.date], run_id: str) -> DeliveryPks:
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


SHAPE_HOURS = np.arange(48) / 2
SHAPE: npt.NDArray[np.float64] = (
    0.08
    + 0.5 * ((SHAPE_HOURS >= 7) & (SHAPE_HOURS < 9))
    + 0.6 * ((SHAPE_HOURS >= 18) & (SHAPE_HOURS < 22))
    + 0.15 * ((SHAPE_HOURS >= 9) & (SHAPE_HOURS < 18))
)


@dataclass(frozen=True)
class Town:
    """Who is reached by which partner, how much electricity and water each uses, and who goes quiet."""

    who: list[str]
    consent: list[str]
    has: dict[str, npt.NDArray[np.bool_]]
    level: npt.NDArray[np.float64]
    quiet: npt.NDArray[np.bool_]

    def electricity(self, g: np.random.Generator, day: dt.date, last: dt.date) -> npt.NDArray[np.float64]:
        """(residents, 48) half-hourly use on a day; quiet residents are flat from 06:00 on the last day."""
        use = np.round(self.level[:, None] * SHAPE[None, :] * g.uniform(0.6, 1.4, (len(self.who), 48)), 3)
        if day == last:
            use[self.quiet, 12:] = 0.08
        return use

    def water(self, g: np.random.Generator, day: dt.date, last: dt.date) -> npt.NDArray[np.float64]:
        use = np.round(g.uniform(0.1, 0.4, len(self.who)), 3)
        return np.where(self.quiet & (day == last), 0.0, use)


def _events(
    g: np.random.Generator, town: Town, days: list[dt.date], pks: DeliveryPks
) -> Iterator[tuple[object, ...]]:
    """Event signal rows (deliveries, clinic, insurer) of every day, in the column order of INSERT_SIGNAL."""
    n = len(town.who)
    for day in days:
        base = dt.datetime.combine(day, dt.time())
        for partner, share in (("kanda-coop", 1 / 7), ("hikari-bento", 5 / 7), ("aoba-clinic", 1 / 30)):
            pk = pks[(partner, day)]
            event = {"aoba-clinic": "attended"}.get(partner, "handed_over")
            for i in np.flatnonzero(town.has[partner] & (g.random(n) < share)):
                quiet = town.quiet[i] and day == days[-1] and partner != "aoba-clinic"
                at = (base + dt.timedelta(hours=10, minutes=int(i % 360))).strftime(FMT)
                kind = "no_answer" if quiet else event
                yield (pk, town.who[i], partner, SECTOR[partner], "event", kind, at, None, None, None,
                       town.consent[i])  # fmt: skip
        pk = pks[("sakura-life", day)]
        for i in np.flatnonzero(town.has["sakura-life"] & (g.random(n) < 0.002)):
            yield (pk, town.who[i], "sakura-life", "insurer", "event", "premium_overdue", base.strftime(FMT),
                   None, None, None, town.consent[i])  # fmt: skip


def _readings(g: np.random.Generator, town: Town, day: dt.date) -> dict[str, pd.DataFrame]:
    """The last day's meter readings per partner, as pseudonymous frames ready for the real load."""
    base = pd.Timestamp(day)
    who, consent = np.array(town.who, dtype=object), np.array(town.consent, dtype=object)
    frames = {}
    for partner, utility, unit, use, slots in (
        ("midori-denki", "electricity", "kWh", town.electricity(g, day, day), 48),
        ("minato-suido", "water", "m3", town.water(g, day, day)[:, None], 1),
    ):
        chosen = np.flatnonzero(town.has[partner])
        starts = base + pd.to_timedelta(np.tile(np.arange(slots) * 1440 // slots, len(chosen)), unit="min")
        frames[partner] = pd.DataFrame(
            {
                "resident": pd.Series(np.repeat(who[chosen], slots), dtype=object),
                "partner_id": partner,
                "sector": "utility",
                "kind": "reading",
                "event_type": utility,
                "event_start": starts,
                "event_end": starts + pd.Timedelta(minutes=1440 // slots),
                "value": use[chosen].ravel(),
                "unit": unit,
                "consent_id": pd.Series(np.repeat(consent[chosen], slots), dtype=object),
            }
        )
    return frames


def _reading_days(
    g: np.random.Generator, town: Town, days: list[dt.date], last: dt.date, pks: DeliveryPks
) -> Iterator[tuple[object, ...]]:
    """Earlier days as the mornings before left them in reading_days (column order of INSERT_DAY)."""
    for day in days:
        use = town.electricity(g, day, last)
        pk = pks[("midori-denki", day)]
        for i in np.flatnonzero(town.has["midori-denki"]):
            slots = use[i].astype("<f8").tobytes()
            yield (pk, town.who[i], "midori-denki", "utility", "electricity", town.consent[i],
                   day.isoformat(), float(use[i].sum()), 48, 0, 1440, slots)  # fmt: skip
        water = town.water(g, day, last)
        pk = pks[("minato-suido", day)]
        for i in np.flatnonzero(town.has["minato-suido"]):
            yield (pk, town.who[i], "minato-suido", "utility", "water", town.consent[i], day.isoformat(),
                   float(water[i]), 1, 0, 1440, None)  # fmt: skip


INSERT_SIGNAL = (
    "INSERT INTO signals (delivery_pk, resident, partner_id, sector, kind, event_type, event_start,"
    " event_end, value, unit, consent_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_DAY = (
    "INSERT INTO reading_days (delivery_pk, resident, partner_id, sector, utility, consent_id, day, total,"
    " readings, first_minute, last_minute, slots) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _write(db: sqlite3.Connection, sql: str, rows: Iterator[tuple[object, ...]]) -> int:
    total = 0
    while chunk := [row for _, row in zip(range(CHUNK), rows, strict=False)]:
        db.executemany(sql, chunk)
        total += len(chunk)
    return total


def generate(home: Path, residents: int, days: int, quiet_share: float, seed: int) -> None:
    """Write the home and warehouse, then print the open run's id for the parent."""
    first = RUN_DATE - dt.timedelta(days=days)
    _files(home, residents, first)
    ctx = RunContext.open(home_environment(home, process_environment()))
    run_id = daily.open_run(ctx, RUN_DATE.isoformat())
    daily.prepare(ctx, run_id)
    keys = ctx.settings.pseudonym_keys
    g = np.random.default_rng(seed)
    town = Town(
        who=[pseudonymise(keys, f"{i + 1:010d}") for i in range(residents)],
        consent=[f"C-{i + 1:010d}" for i in range(residents)],
        has={p: g.random(residents) < REACH[p] for p in REACH},
        level=g.uniform(0.5, 1.5, residents),
        quiet=g.random(residents) < quiet_share,
    )
    dates = [first + dt.timedelta(days=d) for d in range(days)]
    db = sqlite3.connect(home / "warehouse.db")
    db.execute("PRAGMA synchronous=OFF")
    pks = _deliveries(db, dates, run_id)
    events = _write(db, INSERT_SIGNAL, _events(g, town, dates, pks))
    summarised = _write(db, INSERT_DAY, _reading_days(g, town, dates[:-1], dates[-1], pks))
    now = dt.datetime(2026, 11, 28).strftime(FMT)
    earlier = [pk for (_, day), pk in pks.items() if day < dates[-1]]
    db.executemany(
        "INSERT INTO summarised_deliveries (delivery_pk, days, summarised_at) VALUES (?, 0, ?)",
        [(pk, now) for pk in earlier],
    )
    db.executemany(
        "INSERT INTO feed_health (partner_id, day, sector, status, rows) VALUES (?, ?, ?, 'on_time', 1)",
        [(p.id, RUN_DATE.isoformat(), p.sector) for p in PARTNERS],
    )
    db.commit()
    db.close()
    readings = summarising = loading = 0.0
    with session_scope(ctx.settings.database_url) as session:
        for partner, frame in _readings(g, town, dates[-1]).items():
            began = time.process_time()
            summarise(frame, pks[(partner, dates[-1])])
            summarising += time.process_time() - began
            began = time.monotonic()
            readings += load_signals(session, pks[(partner, dates[-1])], frame)
            loading += time.monotonic() - began
    print(
        run_id,
        events,
        summarised,
        int(readings),
        f"{loading:.1f}",
        f"{summarising:.1f}",
        int(town.quiet.sum()),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument(
        "--quiet-share", type=float, default=0.01, help="residents who go quiet on the last day"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="a folder keeping the generated home: a second run builds on a copy",
    )
    parser.add_argument("--generate", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate, args.residents, args.days, args.quiet_share, args.seed)
        return
    with tempfile.TemporaryDirectory(prefix="mimamori-speed-") as folder:
        home = (args.keep or Path(folder)) / "home"
        kept = args.keep / "generated" if args.keep else None
        began = time.monotonic()
        if kept is not None and kept.exists():  # generated before: build on a fresh copy of it
            shutil.rmtree(home, ignore_errors=True)
            shutil.copytree(kept, home)
            facts = (args.keep / "generated.txt").read_text(encoding="utf-8")
        else:
            child = subprocess.run(
                [sys.executable, __file__, "--generate", str(home), "--residents", str(args.residents),
                 "--days", str(args.days), "--quiet-share", str(args.quiet_share), "--seed", str(args.seed)],
                capture_output=True, text=True,
            )  # fmt: skip
            if child.returncode != 0:
                sys.exit(f"generation failed: {child.stderr[-2000:]}")
            facts = child.stdout.split("\n")[-2]
            if kept is not None:  # a copy as generated, to build on again (e.g. after a change)
                shutil.copytree(home, kept)
                (args.keep / "generated.txt").write_text(facts, encoding="utf-8")
        run_id, events, summarised, readings, loading, summarising, quiet = facts.split()[-7:]
        generated = time.monotonic() - began
        size = sum(f.stat().st_size for f in home.glob("warehouse.db*")) / 2**30
        ctx = RunContext.open(home_environment(home, process_environment()))
        began, cpu = time.monotonic(), time.process_time()
        built = daily.build(ctx, run_id)
        build_s, build_cpu = time.monotonic() - began, time.process_time() - cpu
        began = time.monotonic()
        daily.publish(ctx, run_id)
        publish_s = time.monotonic() - began
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"residents {args.residents}  days {args.days}  events {int(events):,}  earlier reading days "
        f"{int(summarised):,}  last day's readings {int(readings):,} (loaded in {loading} s, of which "
        f"summarising into reading days {summarising} s CPU)  quiet {quiet}  "
        f"warehouse {size:.2f} GiB  generated (or copied) in {generated:.0f} s  cores {os.cpu_count()}"
    )
    print(f"watched {built['population']}  tiers {built['tiers']}")
    print(
        f"build {build_s:.1f} s ({build_cpu:.1f} s CPU)  publish {publish_s:.1f} s  "
        f"total {build_s + publish_s:.1f} s  peak RSS {peak:.0f} MB"
    )


if __name__ == "__main__":
    main()
