"""Decline seen in more than one area of life: slow trends of orders, electricity, clinic and money agree.

Each area is a list of rules (params `areas`). An area agrees when its evidence counts at least
`min_events` events (a trend rule counts as `min_events` on its own: a trend is already repeated);
a single overdue premium or one missed appointment is everyday noise, two of a kind are a pattern.
When `min_areas` areas agree the rule adds its weight, and `tier_floor` (see watchlist.combine)
lifts the entry to at least that tier unless an absence (a hospital stay, a trip) explains it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from watchlist.evidence import Evidence
from watchlist.rules import Rule


def _counts(rule: Rule, items: list[Evidence]) -> dict[str, int]:
    """Events per area among one resident's evidence."""
    p = rule.params
    area_of = {rule_id: area for area, rule_ids in p["areas"].items() for rule_id in rule_ids}
    counts: dict[str, int] = defaultdict(int)
    for e in items:
        area = area_of.get(e.rule.id)
        if area is not None and e.weight > 0:
            counts[area] += int(e.facts.get("count", p["min_events"]))
    return counts


def agreement(rule: Rule, found: list[Evidence]) -> Iterator[Evidence]:
    """Residents whose evidence agrees in `min_areas` areas, each with `min_events` events."""
    p = rule.params
    by_resident: dict[str, list[Evidence]] = defaultdict(list)
    for e in found:
        by_resident[e.resident].append(e)
    labels = p.get("labels_ja", {})
    for resident in sorted(by_resident):
        items = by_resident[resident]
        counts = _counts(rule, items)
        agreeing = [area for area in p["areas"] if counts.get(area, 0) >= int(p["min_events"])]
        if len(agreeing) < int(p["min_areas"]):
            continue
        rules = {rule_id for area in agreeing for rule_id in p["areas"][area]}
        behind = [e for e in items if e.rule.id in rules]
        yield Evidence(
            resident=resident,
            rule=rule,
            weight=rule.weight,
            facts={
                "areas_ja": "・".join(labels.get(a, a) for a in agreeing),
                "areas_en": ", ".join(agreeing),
                "count": len(agreeing),
            },
            partners=tuple(sorted({x for e in behind for x in e.partners})),
            sectors=tuple(sorted({x for e in behind for x in e.sectors})),
            start=min(e.start for e in behind),
            end=max(e.end for e in behind),
            deliveries=frozenset().union(*(e.deliveries for e in behind)),
            consents=frozenset().union(*(e.consents for e in behind)),
            news=max(e.news for e in behind),
        )
