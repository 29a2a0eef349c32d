"""The calibration chart: per tier and per rule, the share of visited entries whose visit confirmed a need.

Rendered on the server as SVG (glyphs drawn as paths, so the page needs no font and no CDN) with a
Japanese font from Debian (fonts-ipafont-gothic or fonts-noto-cjk) when one is installed.
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: the chart is written to a string

from matplotlib import font_manager
from matplotlib import pyplot as plt

TIERS = ("urgent", "high", "watch")
TIER_JA = {"urgent": "至急", "high": "高", "watch": "注意"}
JAPANESE_FONTS = ("IPAGothic", "IPAPGothic", "Noto Sans CJK JP", "Noto Sans JP")
ALL = "全体 / all"


def _known_japanese_font() -> str | None:
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in JAPANESE_FONTS if name in installed), None)


def japanese_font() -> str | None:
    """The first Japanese font installed, by family name (None when there is none).

    Matplotlib keeps the fonts it found in a cache under the user's home: a font installed after that
    (apt-get install fonts-ipafont-gothic on a machine that has run matplotlib before) is not in it, so
    the system's fonts the cache does not know are added before giving up.
    """
    found = _known_japanese_font()
    if found is None:
        known = {f.fname for f in font_manager.fontManager.ttflist}
        for path in sorted(set(font_manager.findSystemFonts()) - known):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):  # a file FreeType cannot read: not a font to use
                continue
        found = _known_japanese_font()
    return found


def rows(calibration: dict[str, Any]) -> list[tuple[str, str, int, int, float | None]]:
    """(label, tier, visited, confirmed, share): each tier overall, then each rule at each of its tiers."""
    found = [(ALL, t, c["visited"], c["confirmed"], c["share"]) for t, c in calibration["tiers"].items()]
    for rule, tiers in calibration["rules"].items():
        found += [(rule, t, c["visited"], c["confirmed"], c["share"]) for t, c in tiers.items()]
    return found


def reliability_svg(calibration: dict[str, Any]) -> str:
    """One panel per tier: a bar per rule (and overall) at the share its visits confirmed, n beside it."""
    font = japanese_font()
    table = rows(calibration)
    labels = [ALL, *calibration["rules"]]
    tiers = [t for t in TIERS if t in calibration["tiers"]] or ["watch"]
    with plt.rc_context({"svg.hashsalt": "mimamori", "font.size": 9, "font.family": font or "sans-serif"}):
        fig, axes = plt.subplots(
            1,
            len(tiers),
            figsize=(3.2 * len(tiers) + 2.5, 0.32 * len(labels) + 1.4),
            sharey=True,
            squeeze=False,
        )
        for ax, tier in zip(axes[0], tiers, strict=True):
            cells = {label: (v, c, s) for label, t, v, c, s in table if t == tier}
            for y, label in enumerate(labels):
                visited, confirmed, share = cells.get(label, (0, 0, None))
                if share is None:
                    continue
                ax.barh(y, share, color="#1f5fa8" if label == ALL else "#7fa7d6")
                ax.text(min(share, 0.78) + 0.02, y, f"{confirmed}/{visited}", va="center", fontsize=7)
            ax.set_xlim(0, 1)
            ax.set_title(f"{TIER_JA[tier]} / {tier}")
            ax.set_xlabel("訪問で支援が必要と確認された割合")
            ax.grid(axis="x", alpha=0.3)
        axes[0][0].set_yticks(range(len(labels)), labels)
        axes[0][0].invert_yaxis()
        fig.suptitle("段階・ルール別の確認率（信頼性） / confirmed share per tier and rule")
        fig.tight_layout()
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None})
        plt.close(fig)
    text = out.getvalue()
    return text[text.index("<svg") :]  # inline in a page: no XML declaration, no external DTD
