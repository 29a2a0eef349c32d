"""Linkage speed: 1,000,000 partner rows of about 50,000 customers against 100,000 consented residents.

    .venv/bin/python bench/linkage_speed.py [--residents 100000 --customers 50000 --rows 1000000]

Cold: the first delivery (linker built from the register, no remembered links). Warm: the next
delivery of the same customers (links remembered by keyed customer id). Prints rows per second and
the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from linkage_data import Customer, generate, register_keys

from connectors.registry import Partner
from connectors.sectors import IDENTIFIER_COLUMNS
from consent.book import Consent, ConsentBook
from identity.keys import KeyRing
from identity.link import Linker
from identity.resolver import Resolver
from ingest.boundary import gate, link_rows
from mimamori_demo.town.population import CITY, PREFECTURE, Person
from warehouse.db import migrate, session_scope


def rows_for(customers: list[Customer], total: int, seed: int) -> pd.DataFrame:
    """`total` rows spread over the customers, as a smart-meter file repeats each one many times."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(customers), total)
    frame = pd.DataFrame([customers[i].identity for i in picks], columns=list(IDENTIFIER_COLUMNS))
    frame["event_start"] = pd.Timestamp("2026-11-20") + pd.to_timedelta(
        rng.integers(0, 48, total) * 30, "min"
    )
    return frame


PARTNER = Partner(
    "bench-partner", "bench", "utility", "utf-8", dt.time(6), "B", dt.date(2025, 4, 1), dt.date(2028, 3, 31)
)


def consents(people: list[Person]) -> ConsentBook:
    """One consent per resident: most for everything, some limited to a sector, some expired or withdrawn."""
    found = []
    for n, p in enumerate(people):
        sectors = frozenset({"delivery"}) if n % 10 == 0 else frozenset({"*"})
        expires = dt.date(2026, 11, 1) if n % 25 == 0 else dt.date(2028, 1, 1)
        withdrawn = dt.date(2026, 11, 10) if n % 40 == 0 else None
        found.append(
            Consent(
                f"C{n:07d}", p.resident_id, frozenset({"*"}), sectors, dt.date(2025, 1, 1), expires, withdrawn
            )
        )
    return ConsentBook(found)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    began = time.monotonic()
    people, customers = generate(args.residents, args.customers)
    first, second = rows_for(customers, args.rows, 1), rows_for(customers, args.rows, 2)
    print(
        f"data: {len(people)} residents, {len(customers)} customers, {args.rows} rows per delivery "
        f"({time.monotonic() - began:.1f} s to generate)"
    )
    ring, vault = KeyRing("k1", {"k1": b"p" * 32}), KeyRing("v1", {"v1": b"v" * 32})
    book = consents(people)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate(url)
        start = time.monotonic()
        linker = Linker(register_keys(people))
        built = time.monotonic() - start
        for label, frame in (("cold", first), ("warm", second)):
            start = time.monotonic()
            with session_scope(url) as session:
                resolver = Resolver(session, ring, vault, linker, PREFECTURE, CITY, "bench")
                linked = link_rows(frame, resolver, "bench-partner")
            took = time.monotonic() - start + (built if label == "cold" else 0.0)
            start = time.monotonic()
            consent_ids, reasons = gate(frame, linked.residents, book, PARTNER)
            gated = time.monotonic() - start
            print(
                f"{label}: link {took:6.1f} s  {args.rows / took:9.0f} rows/s  rows linked "
                f"{int(linked.residents.notna().sum())}  outcomes {dict(linked.outcomes)}"
                + (f"  (linker built in {built:.1f} s)" if label == "cold" else "")
            )
            print(
                f"      consent gate {gated:5.2f} s = {gated / took:.1%} of linkage; rows kept "
                f"{int(consent_ids.notna().sum())}, dropped {reasons.value_counts().to_dict()}"
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
