"""How soon collapses reach `urgent`, counted by calendar as a team lives it, and listings after a rescue.

A collapse on day d is on "the next morning's list" when the list of d+1 carries the resident: that is
the morning a team can act on, whatever time of day the collapse happened. Every figure takes the truth
file's JSON and the run dates' DayViews (mimamori_demo.evaluation), like mimamori_demo.eval_metrics.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from mimamori_demo.eval_metrics import feeds_in_scope
from mimamori_demo.evaluation import DayView

URGENT = frozenset({"urgent"})
URGENT_OR_HIGH = frozenset({"urgent", "high"})
HOURS = tuple(range(5, 23))  # collapse hours the generator plants (05:00 to 22:59)
EARLY_BEFORE = 14  # collapses before 14:00 must be urgent on the next morning


def _later(day: str, n: int) -> str:
    return (dt.date.fromisoformat(day[:10]) + dt.timedelta(days=n)).isoformat()


def _tier_on(views: dict[str, DayView], rid: str, day: str) -> str | None:
    view = views.get(day)
    entry = view.entries.get(rid) if view else None
    return entry["tier"] if entry else None


def collapse_mornings(
    truth: dict[str, Any], views: list[DayView], sectors: dict[str, str]
) -> list[dict[str, Any]]:
    """Per collapse with a partner feed in consent scope: its hour and its tier on the next two mornings.

    `next_morning` and `second_morning` are None where that list is beyond the run (the case is open).
    A resident already on the collapse day's list (for something earlier) is found by that day's visit:
    no next morning is needed, so the case is left out (see `found_same_day`).
    """
    by_day = {v.day: v for v in views}
    cases = []
    for s in (s for s in truth["scenarios"] if s["scenario"] == "collapse"):
        at = dt.datetime.fromisoformat(s["collapse_at"])
        first, second = _later(s["collapse_at"], 1), _later(s["collapse_at"], 2)
        feeds = feeds_in_scope(s, by_day.get(first), sectors)
        if first not in by_day or not feeds or _found_same_day(s, views):
            continue
        cases.append(
            {
                "resident_id": s["resident_id"],
                "hour": at.hour,
                "flat": s.get("flat", ""),
                "kind": s.get("kind", ""),
                "feeds": feeds,
                "cause": _cause(s, by_day[first], feeds, sectors),
                "next_morning": _tier_on(by_day, s["resident_id"], first) or "",
                "second_morning": (_tier_on(by_day, s["resident_id"], second) or "")
                if second in by_day
                else None,
            }
        )
    return cases


def _cause(case: dict[str, Any], first: DayView, feeds: list[str], sectors: dict[str, str]) -> str:
    """What a collapse gave the next morning's list to read: no utility readings at all, or its kind.

    `utility_feed_missing` when that list says a utility feed in the resident's scope did not arrive;
    otherwise the case's kind, with the flat level for a standard home (`standard-low`, `standard-high`).
    """
    missing = {n["partner_id"] for n in first.notices if n["status"] == "missing"}
    if any(sectors.get(p) == "utility" for p in missing & set(feeds)):
        return "utility_feed_missing"
    kind = case.get("kind") or "standard"
    return f"{kind}-{case.get('flat', '')}" if kind == "standard" else kind


def _below_urgent(cases: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per cause, per collapse hour: collapses not `urgent` on the next morning's list."""
    found: dict[str, dict[str, int]] = {}
    for c in sorted(cases, key=lambda c: c["hour"]):
        if c["next_morning"] not in URGENT:
            by_hour = found.setdefault(c["cause"], {})
            by_hour[str(c["hour"])] = by_hour.get(str(c["hour"]), 0) + 1
    return dict(sorted(found.items(), key=lambda item: -sum(item[1].values())))


def _found_same_day(case: dict[str, Any], views: list[DayView]) -> bool:
    """Whether the collapse day's own 10:00 visit (the resident listed for something earlier) found it."""
    called = _first_emergency(case, views)
    return called is not None and called <= case["collapse_at"][:10]


def found_same_day(truth: dict[str, Any], views: list[DayView]) -> int:
    """Collapses found by a visit on the collapse day itself, left out of the next-morning recall."""
    return sum(1 for s in truth["scenarios"] if s["scenario"] == "collapse" and _found_same_day(s, views))


def _recall(cases: list[dict[str, Any]]) -> dict[str, Any]:
    two_day = [c for c in cases if c["second_morning"] is not None]
    urgent_1 = sum(1 for c in cases if c["next_morning"] in URGENT)
    high_1 = sum(1 for c in cases if c["next_morning"] in URGENT_OR_HIGH)
    urgent_2 = sum(1 for c in two_day if URGENT & {c["next_morning"], c["second_morning"]})
    # any tier: with visits recorded, a listing is a visit that finds the resident and ends the listing
    listed_2 = sum(1 for c in two_day if c["next_morning"] or c["second_morning"])
    return {
        "cases": len(cases),
        "urgent_next_morning": urgent_1,
        "urgent_or_high_next_morning": high_1,
        "decided_two_days": len(two_day),
        "urgent_within_two_days": urgent_2,
        "listed_within_two_days": listed_2,
        "recall_urgent_next_morning": _share(urgent_1, len(cases)),
        "recall_urgent_or_high_next_morning": _share(high_1, len(cases)),
        "recall_urgent_within_two_days": _share(urgent_2, len(two_day)),
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def recall_by_hour(truth: dict[str, Any], views: list[DayView], sectors: dict[str, str]) -> dict[str, Any]:
    """Next-morning recall at urgent and at urgent-or-high, and urgent within two days, per collapse hour."""
    cases = collapse_mornings(truth, views, sectors)
    return {
        "found_same_day": found_same_day(truth, views),
        "overall": _recall(cases),
        "before_14": _recall([c for c in cases if c["hour"] < EARLY_BEFORE]),
        "from_14": _recall([c for c in cases if c["hour"] >= EARLY_BEFORE]),
        "by_hour": {str(h): _recall([c for c in cases if c["hour"] == h]) for h in HOURS},
        "below_urgent_by_cause": _below_urgent(cases),
        "detail": cases,
    }


def _first_emergency(case: dict[str, Any], views: list[DayView]) -> str | None:
    """The first list date whose 10:00 visit to a listed collapse resident would call an ambulance."""
    collapsed = dt.datetime.fromisoformat(case["collapse_at"])
    for v in views:
        visit = dt.datetime.combine(dt.date.fromisoformat(v.day), dt.time(10), collapsed.tzinfo)
        if case["resident_id"] in v.entries and visit >= collapsed:
            return v.day
    return None


def listed_after_emergency(truth: dict[str, Any], views: list[DayView]) -> dict[str, Any]:
    """Listings (any tier) of collapse residents on days after a visit recorded `emergency_called`.

    Meaningful when the evaluation records visits (`--outcomes`): the visit on the first list date after
    the collapse finds the resident down. A collapsed resident shows no sign of life afterwards.
    """
    found = []
    for s in (s for s in truth["scenarios"] if s["scenario"] == "collapse"):
        called = _first_emergency(s, views)
        if called is None:
            continue
        found += [
            {"day": v.day, "resident_id": s["resident_id"], "tier": v.entries[s["resident_id"]]["tier"]}
            for v in views
            if v.day > called and s["resident_id"] in v.entries
        ]
    return {"entries": len(found), "residents": len({f["resident_id"] for f in found}), "detail": found}


def hour_table(r: dict[str, Any]) -> list[str]:
    """Report lines per collapse hour: cases, urgent and urgent-or-high next morning, urgent ≤2 days."""
    lines = [
        "  時 hour | 件 n | 翌朝至急 urgent d+1 | 翌朝至急・高 urgent/high d+1 | 2日以内至急 urgent ≤2d"
        " | 2日以内掲載 listed ≤2d"
    ]
    rows = [(f"{int(h):02d}", r["by_hour"][h]) for h in r["by_hour"]]
    rows += [("<14", r["before_14"]), ("≥14", r["from_14"]), ("all", r["overall"])]
    for label, x in rows:
        if not x["cases"]:
            continue
        lines.append(
            f"  {label:>4} | {x['cases']:>3} | {x['urgent_next_morning']:>3} | "
            f"{x['urgent_or_high_next_morning']:>3} | {x['urgent_within_two_days']}/{x['decided_two_days']}"
            f" | {x['listed_within_two_days']}/{x['decided_two_days']}"
        )
    if below := r.get("below_urgent_by_cause"):
        lines.append(
            "  翌朝に至急でなかった理由 / not urgent on the next morning, by cause (hours): "
            + "; ".join(
                f"{cause} {sum(hours.values())} ("
                + ", ".join(f"{int(h):02d}h×{n}" for h, n in hours.items())
                + ")"
                for cause, hours in below.items()
            )
        )
    if found := r.get("found_same_day"):
        lines.append(f"  当日の訪問で発見（除外）/ found by the collapse day's own visit (left out): {found}")
    return lines
