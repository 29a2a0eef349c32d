"""Build one day's watchlist: population, evidence, combination, and idempotent storage with lineage."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from consent.book import ConsentBook
from warehouse.models import LineageLink, Outcome, WatchlistEntry, WatchlistReason, WatchPopulation
from warehouse.reading_days import days_frame, summarise_pending
from watchlist.combine import Assessment, absences, combine
from watchlist.evidence import Abstention, Context, evaluate, event_days, read_once
from watchlist.feedback import in_effect, latest_visits
from watchlist.register_rules import register_frame
from watchlist.rules import TIERS, RuleSet
from watchlist.signals import read_signals

MIN_AGE = 65
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildResult:
    """Counts of one build (no identifiers)."""

    population: int
    tiers: dict[str, int]
    not_received: tuple[str, ...]


def entry_id(run_date: dt.date, resident: str) -> str:
    """A stable entry id for a resident on a day, revealing nothing about them."""
    digest = hashlib.sha256(f"{run_date.isoformat()}|{resident}".encode()).hexdigest()[:10]
    return f"WL-{run_date:%Y%m%d}-{digest}"


def band_low(band: str) -> int:
    """The lower bound of an age band such as `70-74` or `90+` (-1 when unknown)."""
    head = band.split("-")[0].rstrip("+")
    return int(head) if head.isdigit() else -1


def population(session: Session, book: ConsentBook, run_date: dt.date) -> dict[str, str]:
    """Active single residents aged 65+ with a consent in force on the date: pseudonym -> district."""
    rows = session.execute(
        select(WatchPopulation.resident, WatchPopulation.district_code, WatchPopulation.age_band).where(
            WatchPopulation.status == "active", WatchPopulation.single_household
        )
    )
    return {
        resident: district
        for resident, district, band in rows
        if band_low(band) >= MIN_AGE and book.in_force(resident, run_date) is not None
    }


def _note_id(kind: str) -> str:
    return kind if kind.startswith("visit_") else f"explained_{kind}"


def _store(
    session: Session,
    run_id: str,
    run_date: dt.date,
    rules: RuleSet,
    assessed: list[Assessment],
    districts: dict[str, str],
    names: dict[str, str],
    abstained: dict[str, list[Abstention]],
) -> None:
    existing = {
        e.entry_id: e
        for e in session.execute(select(WatchlistEntry).where(WatchlistEntry.run_date == run_date)).scalars()
    }
    ids = [entry_id(run_date, a.resident) for a in assessed]
    session.execute(delete(WatchlistReason).where(WatchlistReason.entry_id.in_(list(existing))))
    session.execute(delete(LineageLink).where(LineageLink.entry_id.in_(list(existing))))
    visited = set(
        session.execute(select(Outcome.entry_id).where(Outcome.entry_id.in_(list(existing)))).scalars()
    )
    for stale in set(existing) - set(ids) - visited:
        session.delete(existing[stale])
    session.flush()
    reasons: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    for eid, a in zip(ids, assessed, strict=True):
        entry = existing.get(eid) or WatchlistEntry(entry_id=eid, run_date=run_date, resident=a.resident)
        entry.district_code, entry.tier, entry.score = districts[a.resident], str(a.tier), a.score
        entry.rule_set_version, entry.run_id = rules.version, run_id
        session.add(entry)
        for e in sorted(a.evidence, key=lambda e: (-e.weight, e.rule.id)):
            facts = {**e.facts, "partners": "、".join(names.get(p, p) for p in e.partners)}
            reasons.append(
                {
                    "entry_id": eid,
                    "rule_id": e.rule.id,
                    "rule_version": e.rule.version,
                    "score": e.weight,
                    "text_ja": e.rule.text_ja.format(**facts),
                    "text_en": e.rule.text_en.format(**{**facts, "partners": ", ".join(e.partners)}),
                    "partners": list(e.partners),
                    "sectors": list(e.sectors),
                    "evidence_from": e.start,
                    "evidence_to": e.end,
                }
            )
            link = {"run_id": run_id, "entry_id": eid}
            rule_detail = {"rule_set": rules.version, "weight": e.weight}
            links.append(
                {**link, "kind": "rule", "ref": f"{e.rule.id}@{e.rule.version}", "detail": rule_detail}
            )
            links.extend(
                {**link, "kind": "delivery", "ref": str(pk), "detail": {}} for pk in sorted(e.deliveries)
            )
            links.extend({**link, "kind": "consent", "ref": c, "detail": {}} for c in sorted(e.consents))
        links.extend(
            {"run_id": run_id, "entry_id": eid, "kind": "abstained", "ref": f"{x.rule.id}@{x.rule.version}",
             "detail": {"rule_set": rules.version, "reason": x.reason, **x.facts}}
            for x in abstained.get(a.resident, [])
        )  # fmt: skip
        for absence in a.absences:
            reasons.append(
                {
                    "entry_id": eid,
                    "rule_id": _note_id(absence.kind),
                    "rule_version": rules.version,
                    "score": 0.0,
                    "text_ja": absence.text_ja,
                    "text_en": absence.text_en,
                    "partners": list(absence.partners),
                    "sectors": [],
                    "evidence_from": absence.since,
                    "evidence_to": None,
                }
            )
    session.flush()  # the entries first: reasons and links refer to them
    for model, rows in ((WatchlistReason, reasons), (LineageLink, links)):
        for start in range(0, len(rows), 10_000):
            session.execute(insert(model), rows[start : start + 10_000])
    session.flush()


def build_watchlist(
    session: Session,
    run_id: str,
    run_date: dt.date,
    rules: RuleSet,
    book: ConsentBook,
    feeds: dict[str, str],
    received: frozenset[str],
    names: dict[str, str],
) -> BuildResult:
    """Compute and store the day's entries with their reasons; rerunning the same day gives the same list."""
    districts = population(session, book, run_date)
    period_end = pd.Timestamp(run_date)
    since = (period_end - pd.Timedelta(days=event_days(rules))).to_pydatetime()
    summarised = summarise_pending(session)
    if summarised:
        log.info("reading days summarised from signals not summarised at load: %d", summarised)
    watched = set(districts)
    signals = read_signals(session, watched, since, period_end.to_pydatetime(), kind="event")

    def days(utility: str, first: pd.Timestamp, with_slots: bool) -> pd.DataFrame:
        return days_frame(session, utility, received, first.date(), run_date, watched, with_slots)

    register = register_frame(session, watched, signals, since.date(), run_date)
    ctx = Context(signals, period_end, received, names, read_once(rules.rules, period_end, days), register)
    evidence = evaluate(rules.rules, ctx)
    escalate_days = int(rules.feedback.get("not_home", {}).get("escalate_days", 0))
    visits = in_effect(
        latest_visits(session, run_date), run_date, rules.quiet_days, escalate_days, rules.support_quiet_days
    )
    # only residents with evidence can be listed, so only their absences are worked out
    found = {e.resident for e in evidence}
    explained = absences(rules, signals.loc[signals["resident"].isin(found)], period_end, names, visits)
    assessed = combine(rules, evidence, explained, visits)
    abstained: dict[str, list[Abstention]] = {}
    for x in ctx.abstentions:  # in the lineage of an entry, never on the list: why a rule could not judge
        abstained.setdefault(x.resident, []).append(x)
    _store(session, run_id, run_date, rules, assessed, districts, names, abstained)
    tiers = Counter(a.tier for a in assessed)
    return BuildResult(
        population=len(districts),
        tiers={t: tiers.get(t, 0) for t in TIERS},
        not_received=tuple(sorted(p for p, status in feeds.items() if p not in received)),
    )
