"""A town's lists against its ground truth: collapses found, false alarms, slow cases, hospital stays.

Every function takes the truth file's JSON and the run dates' DayViews (mimamori_demo.evaluation), so each
can be checked on small hand-made fixtures. A collapse's "day 1" is the truth's `should_be_listed_from`:
the first morning list whose data covers the collapse (the next morning for a collapse before noon,
the morning after that for a later one).
"""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

from mimamori_demo.evaluation import TIER_RANK, DayView

FOUND_TIERS = frozenset({"urgent", "high"})
SLOW_WINDOW_DAYS = 14
# when a scenario starts to justify an urgent/high entry (run dates after this truth date)
_ONSET = {"collapse": "collapse_at", "decline": "decline_from", "bereavement": "spouse_died_on"}

Case = dict[str, Any]


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text[:10])


def _days(a: str, b: str) -> int:
    return (_d(a) - _d(b)).days


def feeds_in_scope(case: Case, view: DayView | None, sectors: dict[str, str]) -> list[str]:
    """The case's partners whose data the resident's consents in force on the day let through."""
    scopes = view.scopes.get(case["resident_id"], []) if view else []
    return [p for p in case["partners"] if any(s.covers(p, sectors.get(p, "?")) for s in scopes)]


def _view_on(views: list[DayView], day: str) -> DayView | None:
    """The view of the day, or of the latest run date before it."""
    return next((v for v in reversed(views) if v.day <= day), None)


def _first(views: list[DayView], rid: str, after: str, tiers: frozenset[str]) -> DayView | None:
    """The first run date after `after` whose list carries the resident at one of the tiers."""
    return next(
        (v for v in views if v.day > after[:10] and rid in v.entries and v.entries[rid]["tier"] in tiers),
        None,
    )


def _outages(views: list[DayView], partners: list[str], start: str, end: str) -> list[str]:
    """`date partner status` for each notice about one of the partners between two run dates."""
    return [
        f"{v.day} {n['partner_id']} {n['status']}"
        for v in views
        if start <= v.day <= end
        for n in v.notices
        if n["partner_id"] in partners
    ]


def collapses(truth: dict[str, Any], views: list[DayView], sectors: dict[str, str]) -> dict[str, Any]:
    """Recall within 1 and 2 days among collapses with two or more partner feeds, and detection delays."""
    cases = []
    for s in (s for s in truth["scenarios"] if s["scenario"] == "collapse"):
        expected = s["should_be_listed_from"]
        feeds = feeds_in_scope(s, _view_on(views, expected), sectors)
        hit = _first(views, s["resident_id"], s["collapse_at"], FOUND_TIERS)
        delay = _days(hit.day, expected) + 1 if hit else None
        last = views[-1].day if views else ""
        cases.append(
            {
                "resident_id": s["resident_id"],
                "collapse_at": s["collapse_at"],
                "flat": s.get("flat", ""),
                "expected": expected,
                "feeds": feeds,
                "found_on": hit.day if hit else None,
                "tier": hit.entries[s["resident_id"]]["tier"] if hit else None,
                "delay_days": delay,
                "days_after_collapse_date": _days(hit.day, s["collapse_at"]) if hit else None,
                "open": (delay is None or delay > 2) and _days(last, expected) < 1,
            }
        )
    counted = [c for c in cases if len(c["feeds"]) >= 2 and not c["open"]]
    delays = [c["delay_days"] for c in counted if c["delay_days"] is not None]
    calendar = [c["days_after_collapse_date"] for c in counted if c["delay_days"] is not None]
    return {
        "cases": len(counted),
        "fewer_than_two_feeds": sum(1 for c in cases if len(c["feeds"]) < 2 and not c["open"]),
        "window_not_over": sum(1 for c in cases if c["open"]),
        "within_1_day": sum(1 for d in delays if d <= 1),
        "within_2_days": sum(1 for d in delays if d <= 2),
        "recall_1_day": _share(sum(1 for d in delays if d <= 1), len(counted)),
        "recall_2_days": _share(sum(1 for d in delays if d <= 2), len(counted)),
        "median_delay_days": statistics.median(delays) if delays else None,
        "median_days_after_collapse_date": statistics.median(calendar) if calendar else None,
        "next_calendar_morning": sum(1 for d in calendar if d <= 1),
        "detail": cases,
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def false_alarms(
    truth: dict[str, Any], views: list[DayView], tiers: frozenset[str] = FOUND_TIERS
) -> dict[str, Any]:
    """Entries at the tiers (urgent/high) with nothing wrong per the truth, per 1,000 watched per day.

    The mornings of a hospital stay before the insurer's report arrives are left out (a visit would record
    `hospitalised`, a real need) and counted apart; `strict_per_1000_per_day` counts them as false.
    """
    onset = {
        s["resident_id"]: s[_ONSET[s["scenario"]]] for s in truth["scenarios"] if s["scenario"] in _ONSET
    }
    kinds = {s["resident_id"]: s["scenario"] for s in truth["scenarios"]}
    # an admission nobody has reported yet looks like a collapse, and a visit finds a real need (hospitalised)
    unannounced = {
        s["resident_id"]: (s["admitted_at"][:10], s["explained_by_insurer_from"])
        for s in truth["scenarios"]
        if s["scenario"] == "hospital_stay"
    }
    false: list[dict[str, Any]] = []
    before_known = 0
    for v in views:
        for rid, entry in v.entries.items():
            if rid in unannounced and unannounced[rid][0] < v.day <= unannounced[rid][1]:
                before_known += entry["tier"] in tiers
                continue
            if entry["tier"] in tiers and not (rid in onset and v.day > onset[rid][:10]):
                top = entry["reasons"][0]["rule_id"] if entry["reasons"] else ""
                false.append(
                    {"day": v.day, "resident_id": rid, "tier": entry["tier"],
                     "scenario": kinds.get(rid, "normal"), "top_rule": top}
                )  # fmt: skip
    watched_days = sum(len(v.watched) for v in views)
    return {
        "entries": len(false),
        "watched_resident_days": watched_days,
        "per_1000_per_day": round(1000 * len(false) / watched_days, 4) if watched_days else None,
        "hospital_before_known": before_known,  # not counted above; counted in the strict figure
        "strict_per_1000_per_day": round(1000 * (len(false) + before_known) / watched_days, 4)
        if watched_days
        else None,
        "by_scenario": _count(f["scenario"] for f in false),
        "by_top_rule": _count(f["top_rule"] for f in false),
        "detail": false,
    }


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def slow_cases(truth: dict[str, Any], views: list[DayView], window: int = SLOW_WINDOW_DAYS) -> dict[str, Any]:
    """Declines and bereavements listed at their expected tier or above within `window` days of onset."""
    result: dict[str, Any] = {}
    last = views[-1].day if views else ""
    for scenario in ("decline", "bereavement"):
        rank = TIER_RANK
        cases = []
        for s in (s for s in truth["scenarios"] if s["scenario"] == scenario):
            start = s[_ONSET[scenario]][:10]
            end = (_d(start) + dt.timedelta(days=window)).isoformat()
            tiers = frozenset(t for t in rank if rank[t] <= rank[s["expected_tier"] or "watch"])
            hit = _first([v for v in views if v.day <= end], s["resident_id"], start, tiers)
            any_tier = _first(views, s["resident_id"], start, frozenset(rank))
            cases.append(
                {
                    "resident_id": s["resident_id"],
                    "onset": start,
                    "expected_tier": s["expected_tier"],
                    "found_on": hit.day if hit else None,
                    "first_listed": any_tier.day if any_tier else None,
                    "first_tier": any_tier.entries[s["resident_id"]]["tier"] if any_tier else None,
                    "open": hit is None and end > last,
                }
            )
        decided = [c for c in cases if not c["open"]]
        found = sum(1 for c in decided if c["found_on"])
        result[scenario] = {
            "cases": len(decided),
            "found": found,
            "share": _share(found, len(decided)),
            "window_not_over": len(cases) - len(decided),
            "detail": cases,
        }
    return result


def urgent_in_known_hospital_stay(truth: dict[str, Any], views: list[DayView]) -> dict[str, Any]:
    """Urgent entries after the admission was delivered and before the discharge was (the stay is known)."""
    found = []
    for s in (s for s in truth["scenarios"] if s["scenario"] == "hospital_stay"):
        known = s["explained_by_insurer_from"]
        discharge_delivered = (_d(s["discharged_at"]) + dt.timedelta(days=2)).isoformat()
        for v in views:
            entry = v.entries.get(s["resident_id"])
            if entry and entry["tier"] == "urgent" and known < v.day < discharge_delivered:
                found.append({"day": v.day, "resident_id": s["resident_id"], "entry_id": entry["entry_id"]})
    return {"entries": len(found), "detail": found}


def _why(views: list[DayView], rid: str, partners: list[str], start: str, end: str) -> list[str]:
    """Facts in the handed-over files that explain a late or missed case."""
    facts = []
    outages = _outages(views, partners, start, end)
    if outages:
        facts.append("feed notices: " + "; ".join(outages))
    unwatched = [v.day for v in views if start <= v.day <= end and rid not in v.watched]
    if unwatched:
        facts.append(f"not in the watched population on {', '.join(unwatched)}")
    listed = [
        f"{v.day} {v.entries[rid]['tier']}" for v in views if start <= v.day <= end and rid in v.entries
    ]
    facts.append("listed: " + ("; ".join(listed) if listed else "never in the window"))
    return facts


def missed(
    truth: dict[str, Any], views: list[DayView], found: dict[str, Any], slow: dict[str, Any]
) -> list[dict[str, Any]]:
    """Collapses not found on day 1 and slow cases missed in their window, with what the data shows."""
    by_id = {s["resident_id"]: s for s in truth["scenarios"]}
    out = []
    for c in found["detail"]:
        if c["open"] or (c["delay_days"] is not None and c["delay_days"] <= 1):
            continue
        end = (_d(c["expected"]) + dt.timedelta(days=1)).isoformat()
        facts = [f"collapse at {c['collapse_at'][11:16]} ({c['flat']}-flat), expected {c['expected']}"]
        if len(c["feeds"]) < 2:
            facts.append(f"only {len(c['feeds'])} partner feed(s) in consent scope: {c['feeds']}")
        if c["found_on"]:
            facts.append(f"first {c['tier']} on {c['found_on']} (day {c['delay_days']})")
        facts += _why(views, c["resident_id"], by_id[c["resident_id"]]["partners"], c["collapse_at"], end)
        out.append({"scenario": "collapse", "resident_id": c["resident_id"], "facts": facts})
    for scenario, result in slow.items():
        for c in result["detail"]:
            if c["found_on"] or c["open"]:
                continue
            end = (_d(c["onset"]) + dt.timedelta(days=SLOW_WINDOW_DAYS)).isoformat()
            facts = [f"onset {c['onset']}, expected tier {c['expected_tier']}"]
            if c["first_listed"]:
                facts.append(f"first listed {c['first_listed']} as {c['first_tier']}")
            facts += _why(views, c["resident_id"], by_id[c["resident_id"]]["partners"], c["onset"], end)
            out.append({"scenario": scenario, "resident_id": c["resident_id"], "facts": facts})
    return out
