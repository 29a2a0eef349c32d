"""The auditor's pictures show what they claim: lineage nodes are the chain's, chart marks are the numbers."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from lineage.entry import Chain, ConsentLink, DeliveryLink, RuleLink, SignalGroup
from portal.charts import Series, chart
from portal.lineage_picture import Verdict, picture

pytestmark = pytest.mark.unit
SVG = "{http://www.w3.org/2000/svg}"
T0 = dt.datetime(2026, 11, 1, 9, 0)


def _chain() -> Chain:
    groups = (
        SignalGroup("power-co", "no_usage", "power-co/D-1101", "C-1", 3, T0, T0 + dt.timedelta(days=2)),
        SignalGroup("water-co", "no_flow", "water-co/W-<7>", "C-2", 1, T0, T0),
    )
    rules = (
        RuleLink(
            "quiet_home", "2", 0.6, "電気と水道の使用が止まっています", ("power-co", "water-co"), groups, True
        ),
        RuleLink("missed_pickup", "1", 0.3, "宅配の受け取りがありません", (), (), False),
    )
    deliveries = (
        DeliveryLink("power-co", "D-1101", T0, "loaded", (("a.csv", "ab" * 32, 10),)),
        DeliveryLink("water-co", "W-<7>", T0, "loaded", (("b.csv", "cd" * 32, 4),)),
        DeliveryLink("gas-co", "G-9", T0, "loaded", ()),
    )
    consents = (
        ConsentLink("C-1", 2, "active", dt.date(2026, 4, 1), None, "power-co/utility", False),
        ConsentLink("C-2", None, "withdrawn", dt.date(2026, 4, 1), dt.date(2026, 11, 20), "-", True),
    )
    return Chain(
        "WL-20261104-0001",
        dt.date(2026, 11, 4),
        "D01",
        "urgent",
        0.9,
        "r7",
        rules,
        deliveries,
        consents,
        None,
    )


def _nodes(svg: str, kind: str) -> list[str]:
    root = ET.fromstring(svg)
    return [g.get("data-key", "") for g in root.iter(f"{SVG}g") if g.get("data-kind") == kind]


def test_lineage_picture_has_one_node_per_delivery_rule_consent_and_the_entry() -> None:
    chain = _chain()
    svg = picture(
        chain, {"power-co/D-1101": Verdict(True, 12, ()), "water-co/W-<7>": Verdict(False, 9, ("x",))}
    )
    assert _nodes(svg, "delivery") == [f"{d.partner_id}/{d.delivery_id}" for d in chain.deliveries]
    assert _nodes(svg, "rule") == ["quiet_home v2", "missed_pickup v1"]
    assert _nodes(svg, "consent") == ["C-1", "C-2"]
    assert _nodes(svg, "entry") == ["WL-20261104-0001"]
    assert len(_nodes(svg, "signal")) == 2
    texts = " ".join(t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text"))
    assert "✔ 合格 12項目" in texts and "✖ 不合格 9項目" in texts and "検証 なし" in texts
    assert "style=" not in svg and "<script" not in svg  # the CSP allows neither


def test_lineage_picture_draws_an_edge_for_every_link() -> None:
    root = ET.fromstring(picture(_chain(), {}))
    paths = list(root.iter(f"{SVG}path"))
    # delivery→signal ×2, consent→signal ×2 (dashed), signal→rule ×2, rule→entry ×2
    assert len(paths) == 8
    assert sum(1 for p in paths if p.get("stroke-dasharray")) == 2


def test_line_chart_marks_are_the_values_and_gaps_stay_gaps() -> None:
    svg = chart(
        "確認率", ["11/1", "11/2", "11/3"], [Series("r1 v1", [0.5, None, 1.0])], percent=True, y_max=1
    )
    root = ET.fromstring(svg)
    marks = [(c.get("data-category"), float(c.get("data-value", "nan"))) for c in root.iter(f"{SVG}circle")]
    assert marks == [("11/1", 0.5), ("11/3", 1.0)]
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "100%" in labels and "0%" in labels


def test_stacked_bars_add_up_per_category() -> None:
    series = [Series("至急", [1, 0, 2]), Series("高", [3, 4, 0])]
    root = ET.fromstring(chart("区分別", ["a", "b", "c"], series, kind="bars"))
    rects = [r for r in root.iter(f"{SVG}rect") if r.get("data-value") is not None]
    totals: dict[str, float] = {}
    for r in rects:
        totals[r.get("data-category", "")] = totals.get(r.get("data-category", ""), 0) + float(
            r.get("data-value", 0)
        )
    assert totals == {"a": 4, "b": 4, "c": 2}
    heights = {r.get("data-category"): 0.0 for r in rects}
    for r in rects:
        heights[r.get("data-category")] += float(r.get("height", 0))
    assert heights["a"] == pytest.approx(heights["b"]) and heights["a"] == pytest.approx(2 * heights["c"])


def test_unknown_chart_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        chart("x", ["a"], [Series("s", [1])], kind="pie")
