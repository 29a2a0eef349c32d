"""The ground-truth file kept outside the data home: who should be listed when, and what was planted."""

from __future__ import annotations

from typing import Any

from mimamori_demo.town.consents import ConsentBook
from mimamori_demo.town.customers import Customer
from mimamori_demo.town.deliveries import DeliveryLog, Mess
from mimamori_demo.town.lives import Timeline
from mimamori_demo.town.partners import PARTNERS
from mimamori_demo.town.population import Town
from mimamori_demo.town.scenarios import SCENARIOS, Cast

__all__ = ["build_truth"]


def _iso_day(tl: Timeline, day: int | None) -> str | None:
    return tl.date(day).isoformat() if day is not None else None


def _scenarios(
    town: Town, cast: Cast, book: ConsentBook, customers: dict[str, list[Customer]], tl: Timeline
) -> list[dict[str, Any]]:
    withdrawal = book.later[0]
    entries = []
    for rid, life in cast.lives.items():
        entry: dict[str, Any] = {
            "resident_id": rid,
            "scenario": life.scenario,
            "district_code": town.residents[rid].district_code,
            "partners": [p.id for p in PARTNERS if any(c.key == rid for c in customers[p.id])],
            **cast.facts[rid],
        }
        if life.scenario == "withdrawal":
            withdrawn_on = tl.date(book.later_day).isoformat()
            entry |= {
                "consent_id": withdrawal.consent_id,
                "withdrawn_on": withdrawn_on,
                "must_not_be_listed_from": withdrawn_on,
                "partners_keep_sending": True,
            }
        entries.append(entry)
    return sorted(entries, key=lambda e: (SCENARIOS.index(e["scenario"]), e["resident_id"]))


def _feed_population(town: Town, book: ConsentBook, customers: dict[str, list[Customer]]) -> dict[str, Any]:
    """Per partner: consented in scope, consented out of scope, never consented, not in the register."""
    consents = book.active_on_start()
    per_partner: dict[str, dict[str, int]] = {}
    unconsented: set[str] = set()
    for spec in PARTNERS:
        counts = {
            "consented_in_scope": 0,
            "consented_out_of_scope": 0,
            "unconsented_residents": 0,
            "not_in_register": 0,
        }
        for c in customers[spec.id]:
            if c.key not in town.residents:
                counts["not_in_register"] += 1
            elif c.key not in consents:
                counts["unconsented_residents"] += 1
                unconsented.add(c.key)
            elif consents[c.key].covers(spec.id, spec.sector):
                counts["consented_in_scope"] += 1
            else:
                counts["consented_out_of_scope"] += 1
        per_partner[spec.id] = counts
    return {"resident_ids": sorted(unconsented), "per_partner": per_partner}


def build_truth(
    seed: int,
    town: Town,
    cast: Cast,
    book: ConsentBook,
    customers: dict[str, list[Customer]],
    tl: Timeline,
    mess: Mess,
    log: DeliveryLog,
    extracts: list[str],
) -> dict[str, Any]:
    """Everything an evaluation of the pipeline needs to know, as plain JSON-able values."""
    withdrawn, granted = book.later
    return {
        "seed": seed,
        "start": tl.start.isoformat(),
        "days": tl.days,
        "residents": len(town.residents),
        "run_dates": tl.run_dates,
        "register_extracts": extracts,
        "scenarios": _scenarios(town, cast, book, customers, tl),
        "consents": {
            "initial_forms": len(book.initial),
            "later_file_date": tl.date(book.later_day).isoformat(),
            "withdrawn": [
                {
                    "consent_id": withdrawn.consent_id,
                    "resident_id": withdrawn.resident_id,
                    "withdrawn_on": tl.date(book.later_day).isoformat(),
                }
            ],
            "granted_later": [
                {
                    "consent_id": granted.consent_id,
                    "resident_id": granted.resident_id,
                    "granted_on": granted.granted_on.isoformat(),
                }
            ],
            "expiring_in_period": [
                {
                    "consent_id": c.consent_id,
                    "resident_id": c.resident_id,
                    "expires_on": c.expires_on.isoformat(),
                }
                for c in book.initial
                if c.resident_id in cast.expiring
            ],
        },
        "unconsented_in_feeds": _feed_population(town, book, customers),
        "register_changes": [
            {
                "resident_id": rid,
                "status": status,
                "date": tl.date(day).isoformat(),
                "first_extract": _iso_day(tl, tl.first_extract_after(day)),
            }
            for rid, (status, day) in sorted(cast.register_changes.items())
        ],
        "namesakes": [list(pair) for pair in town.namesakes],
        "deliveries": {
            "late": {
                "partner_id": mess.late[0],
                "delivery_id": f"{tl.run_date(mess.late[1]):%Y%m%d}-01",
                "created_at": log.late_created_at,
            },
            "missing": {
                "partner_id": mess.missing[0],
                "delivery_id": f"{tl.run_date(mess.missing[1]):%Y%m%d}-01",
            },
            "duplicate_rows": log.duplicates,
            "outages": [
                {"partner_id": pid, "delivery_id": f"{tl.run_date(day):%Y%m%d}-01"}
                for pid, day in mess.outages
            ],
        },
    }
