"""The portal's one chart module: small line and stacked-bar charts as SVG, drawn on the server.

Presentation attributes only (the CSP allows no inline style); text in the page's Japanese font (IPA
Gothic from Debian's fonts-ipafont-gothic, then Noto CJK). Every mark carries `data-series` and
`data-value`, so a test can check a chart draws the numbers in the table beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

FONT = "IPAPGothic, IPAGothic, 'Noto Sans CJK JP', 'Noto Sans JP', sans-serif"
PALETTE = ("#24466b", "#e37400", "#1e7d32", "#b3261e", "#6a3d9a", "#0b7f8a", "#8a6d00", "#5f6368")
TIER_COLOURS = {"urgent": "#b3261e", "high": "#e37400", "watch": "#1a73e8"}
W, H, LEFT, RIGHT, BOTTOM = 640, 300, 52, 12, 30
LEGEND_ROW, BAR_MAX = 18, 48


@dataclass(frozen=True)
class Series:
    """One named row of values, one per category (None: no value there)."""

    name: str
    values: Sequence[float | None]
    colour: str = ""


def _step(top: float, whole: bool) -> float:
    """A round tick step giving about five ticks up to `top` (at least 1 when counting)."""
    if top <= 0:
        return 1.0
    raw = top / 5
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return max(1.0, float(round(step))) if whole else float(step)


def _legend(series: Sequence[Series]) -> tuple[list[str], int]:
    """The legend, wrapped into rows across the chart's width; its SVG and the height it takes."""
    parts, x, y = [], LEFT, 12
    for s in series:
        width = 28 + int(sum(11 if ord(c) > 0x2E80 else 6.5 for c in s.name))
        if x > LEFT and x + width > W - RIGHT:
            x, y = LEFT, y + LEGEND_ROW
        parts.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{s.colour}"/>')
        parts.append(f'<text x="{x + 16}" y="{y + 10}">{escape(s.name)}</text>')
        x += width
    return parts, y + LEGEND_ROW + 10


def _number(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.0f}%"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    kind: str = "line",
    percent: bool = False,
    y_max: float | None = None,
) -> str:
    """An SVG chart: "line" (one line per series) or "bars" (series stacked per category)."""
    if kind not in ("line", "bars"):
        raise ValueError(f"unknown chart kind {kind!r}")
    coloured = [Series(s.name, s.values, s.colour or PALETTE[i % len(PALETTE)]) for i, s in enumerate(series)]
    if kind == "bars":
        totals = [sum(s.values[i] or 0 for s in coloured) for i in range(len(categories))]
    else:
        totals = [v for s in coloured for v in s.values if v is not None]
    top = y_max if y_max is not None else max([*totals, 0.0])
    step = _step(top, not percent and all(float(v).is_integer() for v in totals))
    top = max(step, math.ceil(top / step) * step)
    legend, plot_top = _legend(coloured)
    height = plot_top + H - 20
    plot_w, plot_h = W - LEFT - RIGHT, H - 20 - BOTTOM
    slot = plot_w / max(1, len(categories))
    bar = min(slot * 0.7, BAR_MAX)

    def y_of(value: float) -> float:
        return plot_top + plot_h - plot_h * value / top

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {W} {height}" role="img" '
        f'aria-label="{escape(title)}" font-family="{FONT}" font-size="12">',
        f"<title>{escape(title)}</title>",
    ]
    tick = 0.0
    while tick <= top + 1e-9:
        y = y_of(tick)
        parts.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e1e4e8"/>')
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_number(tick, percent)}</text>'
        )
        tick += step
    every = max(1, math.ceil(len(categories) / 10))
    for i, label in enumerate(categories):
        if i % every == 0:
            x = LEFT + slot * (i + 0.5)
            parts.append(
                f'<text x="{x:.1f}" y="{plot_top + plot_h + 16}" text-anchor="middle">{escape(label)}</text>'
            )
    base = [0.0] * len(categories)
    for s in coloured:
        parts.append(f'<g class="series" data-series="{escape(s.name)}">')
        points = []
        for i, value in enumerate(s.values):
            if value is None:
                continue
            x = LEFT + slot * (i + 0.5)
            mark = (
                f'data-series="{escape(s.name)}" data-category="{escape(categories[i])}" '
                f'data-value="{value:g}"'
            )
            if kind == "bars":
                y0, y1 = y_of(base[i]), y_of(base[i] + value)
                base[i] += value
                parts.append(
                    f'<rect {mark} x="{x - bar / 2:.1f}" y="{y1:.1f}" width="{bar:.1f}" '
                    f'height="{y0 - y1:.1f}" fill="{s.colour}"/>'
                )
            else:
                points.append(f"{x:.1f},{y_of(value):.1f}")
                parts.append(f'<circle {mark} cx="{x:.1f}" cy="{y_of(value):.1f}" r="3" fill="{s.colour}"/>')
        if len(points) > 1:
            parts.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{s.colour}" stroke-width="2"/>'
            )
        parts.append("</g>")
    parts.append(
        f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{plot_top + plot_h}" y2="{plot_top + plot_h}" '
        'stroke="#5f6368"/>'
    )
    parts += legend
    parts.append("</svg>")
    return "\n".join(parts)
