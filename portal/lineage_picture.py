"""An entry's chain of evidence drawn as SVG on the server: deliveries → signals → rules → the entry.

Columns left to right; the consents that allowed the signals sit under the deliveries with dashed edges
into the signals they allowed. Only presentation attributes are used (the portal's CSP allows no inline
style). Every node carries its kind and key (`data-kind`, `data-key`) so a test can check the picture
names exactly the chain's deliveries, rules and consents; the full text of a node is its <title>.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from lineage.entry import Chain, SignalGroup
from portal.charts import FONT
from warehouse.models import Delivery, ValidationResult

NODE_W, LINE_H, PAD, GAP, COL_GAP, TOP = 236, 16, 8, 12, 46, 34
MAX_CHARS = 17  # full-width characters that fit one line of a node
COLOURS = {
    "delivery": ("#e8eef5", "#24466b"),
    "consent": ("#f3ecf9", "#6a3d9a"),
    "signal": ("#eef7ee", "#1e7d32"),
    "rule": ("#fff6d6", "#a36a00"),
    "entry": ("#fde8e8", "#b3261e"),
}
HEADINGS = ("配信（検証）", "信号（相手先ごと）", "ルール（版）", "リスト項目")


@dataclass(frozen=True)
class Verdict:
    """A delivery's validation result: success, expectations evaluated, the failed ones by name."""

    success: bool
    evaluated: int
    failed: tuple[str, ...]


def verdicts(db: Session, chain: Chain) -> dict[str, Verdict]:
    """Validation verdicts of the chain's deliveries, by "partner/delivery"."""
    wanted = {(d.partner_id, d.delivery_id) for d in chain.deliveries}
    if not wanted:
        return {}
    rows = db.execute(
        select(Delivery.partner_id, Delivery.delivery_id, ValidationResult)
        .join(ValidationResult, ValidationResult.delivery_pk == Delivery.id)
        .where(Delivery.partner_id.in_(sorted({p for p, _ in wanted})))
    ).tuples()
    return {
        f"{partner}/{delivery}": Verdict(v.success, v.evaluated, tuple(v.failed))
        for partner, delivery, v in rows
        if (partner, delivery) in wanted
    }


def _width(text: str) -> float:
    """Width in full-width characters (ASCII counts half)."""
    return sum(0.55 if ord(c) < 0x2E80 else 1.0 for c in text)


def _fit(text: str) -> str:
    if _width(text) <= MAX_CHARS:
        return text
    out = ""
    for c in text:
        if _width(out + c) > MAX_CHARS - 1:
            return out + "…"
        out += c
    return out


@dataclass
class Node:
    """One box: kind, key (what a test compares), lines shown, and the full text as its tooltip."""

    kind: str
    key: str
    lines: list[str]
    column: int
    x: float = 0
    y: float = 0
    targets: list[tuple[str, bool]] = field(default_factory=list)  # (node id, dashed)

    @property
    def height(self) -> float:
        return PAD * 2 + LINE_H * len(self.lines)


def _signal_key(s: SignalGroup) -> str:
    return f"{s.partner_id}|{s.event_type}|{s.delivery}|{s.consent_id}"


def _nodes(chain: Chain, found: dict[str, Verdict]) -> dict[str, Node]:
    nodes: dict[str, Node] = {}
    entry_id = f"entry:{chain.entry_id}"
    for d in chain.deliveries:
        key = f"{d.partner_id}/{d.delivery_id}"
        verdict = found.get(key)
        state = (
            "検証 なし"
            if verdict is None
            else f"検証 {'✔ 合格' if verdict.success else '✖ 不合格'} {verdict.evaluated}項目"
        )
        first = d.files[0][1][:12] + "…" if d.files else "—"
        nodes[f"delivery:{key}"] = Node(
            "delivery", key, [key, f"受信 {d.received_at:%Y-%m-%d %H:%M}", state, f"sha256 {first}"], 0
        )
    for c in chain.consents:
        version = "消去済み" if c.purged else f"v{c.version}"
        nodes[f"consent:{c.consent_id}"] = Node(
            "consent", c.consent_id, [f"同意 {c.consent_id}", f"{version} {c.status}", f"範囲 {c.scope}"], 0
        )
    for rule in chain.rules:
        rule_key = f"{rule.rule_id} v{rule.version}"
        nodes[f"rule:{rule_key}"] = Node(
            "rule", rule_key, [f"{rule_key} [{rule.score}]", rule.text_ja], 2, targets=[(entry_id, False)]
        )
        for s in rule.signals:
            sid = f"signal:{_signal_key(s)}"
            if sid not in nodes:
                window = f"{s.first:%m/%d}〜{s.last:%m/%d}"
                nodes[sid] = Node(
                    "signal", _signal_key(s), [f"{s.partner_id}", f"{s.event_type} ×{s.count}", window], 1
                )
                for source, dashed in ((f"delivery:{s.delivery}", False), (f"consent:{s.consent_id}", True)):
                    if source in nodes:
                        nodes[source].targets.append((sid, dashed))
            nodes[sid].targets.append((f"rule:{rule_key}", False))
    nodes[entry_id] = Node(
        "entry",
        chain.entry_id,
        [chain.entry_id, f"{chain.run_date} 地区 {chain.district_code}", f"{chain.tier} 点数 {chain.score}"],
        3,
    )
    return nodes


def _place(nodes: dict[str, Node]) -> tuple[float, float]:
    columns: dict[int, list[Node]] = {}
    for node in nodes.values():
        columns.setdefault(node.column, []).append(node)
    heights = {c: sum(n.height for n in ns) + GAP * (len(ns) - 1) for c, ns in columns.items()}
    tallest = max(heights.values())
    for column, members in columns.items():
        y = TOP + (tallest - heights[column]) / 2
        for node in members:
            node.x, node.y = PAD + column * (NODE_W + COL_GAP), y
            y += node.height + GAP
    return PAD * 2 + 4 * NODE_W + 3 * COL_GAP, TOP + tallest + PAD


def picture(chain: Chain, found: dict[str, Verdict]) -> str:
    """The chain as an SVG document (a string to put inline in the page)."""
    nodes = _nodes(chain, found)
    width, height = _place(nodes)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lineage" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" aria-labelledby="lineage-title" '
        f'font-family="{FONT}" font-size="12">',
        f'<title id="lineage-title">{escape(chain.entry_id)} の根拠の系譜</title>',
    ]
    for column, heading in enumerate(HEADINGS):
        x = PAD + column * (NODE_W + COL_GAP)
        parts.append(f'<text x="{x}" y="20" font-weight="bold" font-size="13">{heading}</text>')
    for node in nodes.values():
        for target, dashed in node.targets:
            other = nodes[target]
            x1, y1 = node.x + NODE_W, node.y + node.height / 2
            x2, y2 = other.x, other.y + other.height / 2
            bend = (x2 - x1) / 2
            dash = ' stroke-dasharray="5 4"' if dashed else ""
            parts.append(
                f'<path d="M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} '
                f'{x2:.1f},{y2:.1f}" fill="none" stroke="#8a8f98" stroke-width="1.3"{dash}/>'
            )
    for node in nodes.values():
        fill, stroke = COLOURS[node.kind]
        parts.append(
            f'<g class="node {node.kind}" data-kind="{node.kind}" data-key="{escape(node.key)}">'
            f"<title>{escape(' / '.join(node.lines))}</title>"
            f'<rect x="{node.x:.1f}" y="{node.y:.1f}" width="{NODE_W}" height="{node.height:.0f}" rx="6" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>'
        )
        for number, line in enumerate(node.lines):
            weight = ' font-weight="bold"' if number == 0 else ""
            y = node.y + PAD + LINE_H * (number + 1) - 4
            parts.append(f'<text x="{node.x + PAD:.1f}" y="{y:.1f}"{weight}>{escape(_fit(line))}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)
