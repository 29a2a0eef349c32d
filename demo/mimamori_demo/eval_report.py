"""`mimamori eval --report`: one self-contained HTML page (no CDN) with the figures and the chart."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from mimamori_demo.eval_chart import TIER_JA, reliability_svg, rows

SCENARIO_JA = {
    "decline": "衰え（発症から14日以内）/ decline within 14 days",
    "bereavement": "死別（台帳で単身と分かってから3日以内）/ bereaved within 3 days of the register",
    "move_in": "転入（台帳に載ってから3日以内）/ newcomer within 3 days",
    "unseen": "長期間変化なし・情報なし（3日以内）/ unseen within 3 days",
}


def _share(share: float | None) -> str:
    return "-" if share is None else f"{share:.2f}"


def _variants(by_variant: dict[str, dict[str, int]]) -> str:
    return ", ".join(f"{k} {v['found']}/{v['cases']}" for k, v in by_variant.items())


def _prevention_table(prevention: dict[str, Any]) -> str:
    body = "".join(
        f"<tr><td>{escape(SCENARIO_JA.get(name, name))}</td><td>{p['found']}/{p['cases']}</td>"
        f"<td>{_share(p['share'])}</td><td>{p['window_not_over']}</td><td>{p['not_watched']}</td>"
        f"<td>{escape(_variants(p['by_variant']))}</td></tr>"
        for name, p in prevention.items()
    )
    return (
        "<table><tr><th>事例 / case</th><th>発見 / listed</th><th>割合 / share</th>"
        "<th>期間未了 / open</th><th>対象外 / not watched</th><th>内訳 / by variant</th></tr>"
        f"{body}</table>"
    )


def _calibration_table(calibration: dict[str, Any]) -> str:
    body = "".join(
        f"<tr><td>{escape(label)}</td><td>{TIER_JA.get(tier, tier)} / {tier}</td><td>{visited}</td>"
        f"<td>{confirmed}</td><td>{_share(share)}</td></tr>"
        for label, tier, visited, confirmed, share in rows(calibration)
    )
    return (
        "<table><tr><th>ルール / rule</th><th>段階 / tier</th><th>訪問 / visited</th>"
        f"<th>確認 / confirmed</th><th>確認率 / share</th></tr>{body}</table>"
    )


def report_html(result: dict[str, Any], lines: list[str]) -> str:
    """The page: the figures as lines, the prevention table, the chart with its numbers beside it."""
    calibration = result.get("calibration")
    if calibration:
        chart = (
            f'<div class="pair"><figure>{reliability_svg(calibration)}</figure>'
            f"{_calibration_table(calibration)}</div>"
        )
    else:
        chart = "<p>訪問結果なし（--outcomes で記録すると確認率を表示します）/ no outcomes recorded</p>"
    return f"""<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>見守りリスト評価 / watchlist evaluation</title>
<style>body{{font-family:sans-serif;margin:1.5em}} table{{border-collapse:collapse;margin:.5em 0}}
td,th{{border:1px solid #bbb;padding:.2em .5em;font-size:.9em}}
.pair{{display:flex;gap:1.5em;align-items:flex-start;flex-wrap:wrap}} figure{{margin:0}}
svg{{max-width:100%;height:auto}} pre{{white-space:pre-wrap}}</style></head>
<body><h1>見守りリスト評価 / watchlist evaluation</h1>
<pre>{escape(chr(10).join(lines))}</pre>
<h2>予防 / prevention</h2>{_prevention_table(result["prevention"])}
<h2>段階の意味：訪問で確認された割合 / what each tier means in practice</h2>
<p>各段階・各ルールについて、訪問で支援の必要（支援開始・医療へつなぐ・救急・入院・死亡）が確認された割合です。
/ Per tier and rule, the share of visited entries whose visit confirmed a need.</p>
{chart}
</body></html>
"""


def write_report(path: Path, result: dict[str, Any], lines: list[str]) -> None:
    """Write the HTML report."""
    path.write_text(report_html(result, lines), encoding="utf-8")
