"""Prevention and calibration figures of an evaluation: slow cases listed in time, confirmed share per tier.

Like mimamori_demo.eval_metrics, each function takes the truth file's JSON and the run dates' DayViews (or
the visits an evaluation recorded), so each can be checked on small hand-made fixtures.

- a decline counts as listed when any list within `DECLINE_DAYS` days after its onset carries it;
- a bereaved resident counts as listed when a list within `REGISTER_DAYS` days of the first register
  extract showing them alone carries them (the register is the municipality's own, so no partner is
  needed); so do a newcomer (from the extract that shows the move in) and a long-unchanged address with
  no feed (from the start);
- calibration: per tier and per rule cited, the share of visited entries whose visit confirmed a need.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from mimamori_demo.evaluation import TIER_RANK, DayView
from watchlist.feedback import CONFIRMING

DECLINE_DAYS = 14
REGISTER_DAYS = 3
# scenario -> (truth field the window starts on, days the window lasts)
WINDOWS: dict[str, tuple[str, int]] = {
    "decline": ("decline_from", DECLINE_DAYS),
    "bereavement": ("register_shows_on", REGISTER_DAYS),
    "move_in": ("register_shows_on", REGISTER_DAYS),
    "unseen": ("register_shows_on", REGISTER_DAYS),
}

Case = dict[str, Any]


def _first_listed(views: list[DayView], rid: str, start: str, end: str) -> DayView | None:
    """The first run date in [start, end] whose list carries the resident at any tier."""
    return next((v for v in views if start <= v.day <= end and rid in v.entries), None)


def listed_in_time(truth: dict[str, Any], views: list[DayView]) -> dict[str, Any]:
    """Per prevention scenario: cases whose window is over, those listed within it, and the share.

    A case counts only while the resident is in the watched population at the window's start (a
    bereaved person without consent is no one the list may carry); the rest are reported as
    `not_watched`. Variants (bereavement with or without an insurer, a decline seen only in money and
    the clinic) are counted separately as well.
    """
    last = views[-1].day if views else ""
    result: dict[str, Any] = {}
    for scenario, (field, days) in WINDOWS.items():
        cases = []
        for s in (s for s in truth["scenarios"] if s["scenario"] == scenario):
            start = s[field][:10]
            if scenario == "decline":  # the first list after the onset day
                start = (dt.date.fromisoformat(start) + dt.timedelta(days=1)).isoformat()
            end = (dt.date.fromisoformat(start) + dt.timedelta(days=days)).isoformat()
            first = next((v for v in views if v.day >= start), None)
            hit = _first_listed(views, s["resident_id"], start, end)
            cases.append(
                {
                    "resident_id": s["resident_id"],
                    "variant": s.get("variant", ""),
                    "window": [start, end],
                    "found_on": hit.day if hit else None,
                    "tier": hit.entries[s["resident_id"]]["tier"] if hit else None,
                    "watched": first is not None and s["resident_id"] in first.watched,
                    "open": hit is None and end > last,
                }
            )
        decided = [c for c in cases if not c["open"] and c["watched"]]
        found = sum(1 for c in decided if c["found_on"])
        variants: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for c in decided:
            variants[c["variant"] or "-"][0] += bool(c["found_on"])
            variants[c["variant"] or "-"][1] += 1
        result[scenario] = {
            "days": days,
            "cases": len(decided),
            "found": found,
            "share": round(found / len(decided), 4) if decided else None,
            "not_watched": sum(1 for c in cases if not c["watched"]),
            "window_not_over": sum(1 for c in cases if c["open"] and c["watched"]),
            "by_variant": {k: {"found": v[0], "cases": v[1]} for k, v in sorted(variants.items())},
            "detail": cases,
        }
    return result


def visit_rows(
    day: str, entries: dict[str, dict[str, Any]], outcomes: dict[str, str]
) -> list[dict[str, Any]]:
    """One row per visited entry: its tier, the rules that weighed in it, and the outcome recorded."""
    return [
        {
            "day": day,
            "tier": entry["tier"],
            "rules": sorted({r["rule_id"] for r in entry["reasons"] if r.get("score", 1) > 0}),
            "outcome": outcomes[rid],
        }
        for rid, entry in sorted(entries.items())
        if rid in outcomes
    ]


def calibration(visits: list[dict[str, Any]]) -> dict[str, Any]:
    """Per tier, and per tier and rule cited, visited entries and the share whose visit confirmed a need."""

    def cell(rows: list[dict[str, Any]]) -> dict[str, Any]:
        confirmed = sum(1 for r in rows if r["outcome"] in CONFIRMING)
        return {
            "visited": len(rows),
            "confirmed": confirmed,
            "share": round(confirmed / len(rows), 4) if rows else None,
        }

    by_tier: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_rule: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in visits:
        by_tier[row["tier"]].append(row)
        for rule in row["rules"]:
            by_rule[(rule, row["tier"])].append(row)
    tiers = sorted(by_tier, key=lambda t: TIER_RANK.get(t, 9))
    rules = sorted({rule for rule, _ in by_rule})
    return {
        "tiers": {t: cell(by_tier[t]) for t in tiers},
        "rules": {
            rule: {t: cell(by_rule[(rule, t)]) for t in tiers if by_rule.get((rule, t))} for rule in rules
        },
    }
