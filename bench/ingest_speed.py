"""Ingest throughput: one day of 30-minute smart-meter readings for N customers plus the other sectors.

    .venv/bin/python bench/ingest_speed.py [--customers 100000]

Builds a data home with N consented residents and one day's deliveries (N × 48 electricity rows, and
small delivery, insurer and clinic files), then times the real steps (consent import and register,
then ingest: read, check, link, consent gate, pseudonymise, validate, load). Prints rows per second,
peak memory and the share of time spent in Great Expectations.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

DAY = dt.date(2026, 11, 20)


def write_delivery(home: Path, partner: str, sector: str, frame: pd.DataFrame) -> int:
    folder = home / "inbox" / partner / f"{DAY + dt.timedelta(days=1):%Y%m%d}-01"
    folder.mkdir(parents=True)
    path = folder / "data.csv"
    frame.to_csv(path, index=False)
    body = path.read_bytes()
    manifest = {
        "spec_version": "1",
        "partner_id": partner,
        "sector": sector,
        "delivery_id": folder.name,
        "period_start": f"{DAY}T00:00:00+09:00",
        "period_end": f"{DAY + dt.timedelta(days=1)}T00:00:00+09:00",
        "files": [{"name": "data.csv", "sha256": hashlib.sha256(body).hexdigest(), "rows": len(frame)}],
        "created_at": f"{DAY + dt.timedelta(days=1)}T04:00:00+09:00",
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return len(frame)


def build(home: Path, customers: int) -> int:
    from mimamori_demo.town.population import build_town

    town = build_town(random.Random(5), customers, DAY - dt.timedelta(days=30))
    people = list(town.residents.values())[:customers]
    register = pd.DataFrame(
        [
            {
                "resident_id": p.resident_id,
                "name_kanji": p.name.kanji,
                "name_kana": p.name.kana,
                "birth_date": p.birth.isoformat(),
                "sex": p.sex,
                "address": p.address.register,
                "district_code": p.district_code,
                "household_id": p.household_id,
                "household_size": 1,
                "phone": p.phone,
                "status": "active",
                "status_date": "2000-01-01",
            }
            for p in people
        ]
    )
    (home / "register").mkdir(parents=True)
    register.to_csv(home / "register" / f"register_{DAY:%Y%m%d}.csv", index=False)
    consents = pd.DataFrame(
        {
            "resident_id": register["resident_id"],
            "consent_id": [f"C{n:07d}" for n in range(len(register))],
            "scope_partners": "*",
            "scope_sectors": "*",
            "purpose": "watch_over",
            "granted_on": "2025-01-01",
            "expires_on": "2028-01-01",
            "withdrawn_on": "",
            "method": "paper",
            "evidence_ref": "",
            "proxy_name": "",
            "proxy_relation": "",
        }
    )
    (home / "consents").mkdir()
    consents.to_csv(home / "consents" / f"consents_{DAY:%Y%m%d}.csv", index=False)
    (home / "municipality.yaml").write_text(
        "code: '149999'\nprefecture: 神奈川県\ncity: みどり市\n"
        "districts: {D01: 北部, D02: 中部, D03: 南部, D04: 東部}\n"
    )
    partners = []
    for pid, sector in (
        ("power", "utility"),
        ("coop", "delivery"),
        ("life", "insurer"),
        ("clinic", "clinic"),
    ):
        partners.append(
            f"  - id: {pid}\n    name: {pid}\n    sector: {sector}\n    encoding: utf-8\n"
            "    due_by: '06:00'\n    agreement: {ref: B, valid_from: 2025-04-01, valid_to: 2028-03-31}\n"
        )
    (home / "partners.yaml").write_text("partners:\n" + "".join(partners))
    ids = register.rename(columns={"resident_id": "partner_customer_id"})[
        ["partner_customer_id", "name_kana", "name_kanji", "birth_date", "address", "phone"]
    ]
    ids["partner_customer_id"] = "P" + ids["partner_customer_id"]
    slots = pd.date_range(f"{DAY}T00:00:00", periods=48, freq="30min")
    rng = np.random.default_rng(1)
    power = ids.loc[ids.index.repeat(48)].reset_index(drop=True)
    power["utility"], power["meter_id"], power["record_type"] = "electricity", "M", "reading"
    starts = np.tile(slots, len(ids))
    power["period_start"] = pd.Series(starts).dt.strftime("%Y-%m-%dT%H:%M:%S+09:00")
    power["period_end"] = (pd.Series(starts) + pd.Timedelta(minutes=30)).dt.strftime(
        "%Y-%m-%dT%H:%M:%S+09:00"
    )
    power["consumption"] = rng.uniform(0.05, 0.9, len(power)).round(3)
    power["unit"], power["event_date"], power["event_type"] = "kWh", "", ""
    rows = write_delivery(home, "power", "utility", power)
    for pid, sector, column, event in (
        ("coop", "delivery", "event_time", "handed_over"),
        ("life", "insurer", "event_date", "premium_overdue"),
        ("clinic", "clinic", "event_date", "attended"),
    ):
        sample = ids.sample(frac=0.1, random_state=2).copy()
        sample[column] = f"{DAY}T10:00:00" if column == "event_time" else f"{DAY}"
        sample["event_type"] = event
        rows += write_delivery(home, pid, sector, sample)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        began = time.monotonic()
        rows = build(home, args.customers)
        print(f"built {rows} rows for {args.customers} customers in {time.monotonic() - began:.0f} s")
        from expectations import validate as gx_module
        from mimamori import daily
        from mimamori.context import RunContext

        spent = {"gx": 0.0}
        real = gx_module.validate

        def timed(*a: object, **k: object) -> object:
            start = time.monotonic()
            try:
                return real(*a, **k)  # type: ignore[arg-type]
            finally:
                spent["gx"] += time.monotonic() - start

        import ingest.load as ingest_module

        ingest_module.validate = timed  # type: ignore[assignment]
        ctx = RunContext.open({"MIMAMORI_HOME": str(home)})
        run_id = daily.open_run(ctx, (DAY + dt.timedelta(days=1)).isoformat())
        start = time.monotonic()
        daily.prepare(ctx, run_id)
        prepared = time.monotonic() - start
        start, cpu = time.monotonic(), time.process_time()
        summary = daily.ingest(ctx, run_id)
        took, cpu = time.monotonic() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"prepare (consents, register, vault) {prepared:.0f} s; ingest {took:.0f} s for {rows} rows = "
        f"{rows / took:,.0f} rows/s (CPU {cpu:.0f} s); loaded {summary['rows_loaded']}; "
        f"deliveries {summary['deliveries']}"
    )
    print(
        f"Great Expectations {spent['gx']:.1f} s ({spent['gx'] / took:.1%} of ingest); "
        f"peak RSS {peak:,.0f} MB"
    )


if __name__ == "__main__":
    main()
