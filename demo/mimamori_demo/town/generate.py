"""Write a whole synthetic town into a data home, and its ground truth next to it."""

from __future__ import annotations

import datetime
import json
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mimamori_demo.evaluation import consent_copies
from mimamori_demo.town.collapses import outages
from mimamori_demo.town.consents import CONSENT_COLUMNS, ConsentBook, build_consents
from mimamori_demo.town.customers import enroll
from mimamori_demo.town.deliveries import build_feeds, plan_mess, write_deliveries
from mimamori_demo.town.lives import Timeline
from mimamori_demo.town.partners import PARTNERS, partners_yaml
from mimamori_demo.town.population import CITY, DISTRICTS, MUNICIPALITY_CODE, PREFECTURE, TOWNS, build_town
from mimamori_demo.town.prevention import plant_prevention
from mimamori_demo.town.register import write_register
from mimamori_demo.town.scenarios import cast_scenarios
from mimamori_demo.town.truth import build_truth
from mimamori_demo.town.writer import csv_bytes, write_bytes
from warehouse.errors import InputError

__all__ = ["TownSummary", "default_truth_path", "generate_town"]

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class TownSummary:
    """What generate_town wrote."""

    residents: int
    households: int
    consented: int
    partners: int
    deliveries: int
    rows: int
    truth_path: Path
    run_dates: list[str]


def default_truth_path(home: Path) -> Path:
    """`<home.name>.truth.json` beside the home, so the answers never sit inside the data home."""
    return home.parent / f"{home.name}.truth.json"


def _municipality_yaml() -> str:
    lines = [f'code: "{MUNICIPALITY_CODE}"', f"prefecture: {PREFECTURE}", f"city: {CITY}", "districts:"]
    lines += [f"  {code}: {name}" for code, name in DISTRICTS.items()]
    # Fictitious numbers (the 0465-00 block is not in service): each centre's day and after-hours line.
    lines += ["contacts:"]
    lines += [
        f'  {code}: "{name} 0465-00-{1000 + i:04d}（夜間・休日 0465-00-{1900 + i:04d}）"'
        for i, (code, name) in enumerate(DISTRICTS.items(), start=1)
    ]
    lines += ["towns:", *(f"  {town}: {district}" for town, (district, _chome) in TOWNS.items())]
    return "\n".join(lines) + "\n"


def _write_consents(home: Path, book: ConsentBook, tl: Timeline) -> None:
    shutil.rmtree(consent_copies(home), ignore_errors=True)
    for day, forms in ((0, book.initial), (book.later_day, book.later)):
        rows = [c.row() for c in sorted(forms, key=lambda c: c.consent_id)]
        name = f"consents_{tl.date(day):%Y%m%d}.csv"
        write_bytes(home / "consents" / name, csv_bytes(CONSENT_COLUMNS, rows, "utf-8"))
        # a copy for evaluation beside the truth: the home's forms are sealed away once imported
        write_bytes(consent_copies(home) / name, csv_bytes(CONSENT_COLUMNS, rows, "utf-8"))


def _stage(rng: random.Random, name: str) -> random.Random:
    """An independent stream per stage, so changing one stage leaves the others' draws alone."""
    return random.Random(f"{rng.getrandbits(64)}:{name}")


def generate_town(
    home: Path,
    *,
    residents: int = 2000,
    days: int = 21,
    seed: int = 7,
    start: datetime.date = datetime.date(2026, 11, 1),
    truth_path: Path | None = None,
    progress: Progress | None = None,
    collapse_per: int | None = None,
) -> TownSummary:
    """Write register, consents, partner registry and daily deliveries into `home`; truth beside it.

    `collapse_per`: residents per planted collapse (default one in 400); an evaluation plants more.
    """
    home = Path(home)
    truth_path = Path(truth_path) if truth_path is not None else default_truth_path(home)
    if days < 2:
        raise InputError(f"a town needs at least 2 days (--days {days})")
    if truth_path.resolve().is_relative_to(home.resolve()):
        raise InputError("the truth file must be outside the data home")
    report: Progress = progress or (lambda stage, done, total: None)
    root = random.Random(seed)
    tl = Timeline(start, days)
    town = build_town(_stage(root, "town"), residents, start)
    cast = cast_scenarios(_stage(root, "cast"), town, tl, collapse_per)
    plant_prevention(seed, town, cast, tl)
    book = build_consents(_stage(root, "consents"), town, cast, tl)
    customers = enroll(_stage(root, "customers"), town, cast, book, tl)
    report("town", 1, 1)
    home.mkdir(parents=True, exist_ok=True)
    write_bytes(home / "municipality.yaml", _municipality_yaml().encode("utf-8"))
    write_bytes(home / "partners.yaml", partners_yaml().encode("utf-8"))
    extracts = write_register(home, town, cast.register_changes, tl)
    _write_consents(home, book, tl)
    report("register", 1, 1)
    feeds = build_feeds(_stage(root, "feeds"), customers, cast.lives, tl)
    mess = plan_mess(_stage(root, "mess"), tl, outages(cast.lives, tl))
    log = write_deliveries(home, _stage(root, "deliveries"), feeds, mess, tl, report)
    truth = build_truth(seed, town, cast, book, customers, tl, mess, log, extracts)
    write_bytes(truth_path, (json.dumps(truth, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    report("truth", 1, 1)
    return TownSummary(
        residents=len(town.residents),
        households=len(town.households),
        consented=len(book.initial),
        partners=len(PARTNERS),
        deliveries=log.deliveries,
        rows=log.rows,
        truth_path=truth_path,
        run_dates=tl.run_dates,
    )
