"""`mimamori eval`: run a synthetic town day by day in process, visit as a team would if asked, judge it."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mimamori import daily, outreach
from mimamori.context import RunContext
from mimamori.settings import DEPLOYMENT_VARIABLES, process_environment
from mimamori_demo.eval_metrics import (
    collapses,
    false_alarms,
    missed,
    slow_cases,
    urgent_in_known_hospital_stay,
)
from mimamori_demo.eval_prevention import calibration, listed_in_time, visit_rows
from mimamori_demo.eval_urgency import URGENT, hour_table, listed_after_emergency, recall_by_hour
from mimamori_demo.evaluation import (
    PRIVACY_CHECKS,
    DayView,
    partner_sectors,
    privacy_violations,
    published,
    read_day,
)
from warehouse.errors import InputError
from warehouse.vocabulary import JST

VISIT_HOUR = 10  # the team visits a listed person at 10:00 on the list's date
OnProgress = Callable[[str, int, int], None]


def home_environment(home: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """The settings of an embedded-default home (SQLite, development keys): no deployment variable."""
    kept = {name: value for name, value in environ.items() if name not in DEPLOYMENT_VARIABLES}
    return {**kept, "MIMAMORI_HOME": str(home)}


def visit_outcome(case: dict[str, Any] | None, at: dt.datetime) -> str:
    """The outcome code (docs/feeds.md) a visit at a JST moment would record, from the ground truth."""
    if case is None:
        return "safe_no_action"

    def moment(key: str) -> dt.datetime:
        return dt.datetime.fromisoformat(case[key])

    kind = case["scenario"]
    if kind == "collapse" and at >= moment("collapse_at"):
        return "emergency_called"
    if kind == "hospital_stay" and moment("admitted_at") <= at < moment("discharged_at"):
        return "hospitalised"
    if kind == "trip" and moment("trip_from") <= at < moment("trip_until"):
        return "not_home"
    if kind == "decline" and at.date() >= dt.date.fromisoformat(case["decline_from"]):
        return "support_started"
    if kind == "bereavement" and at.date() > dt.date.fromisoformat(case["spouse_died_on"]):
        return "support_started"
    if kind in ("move_in", "unseen") and case["needs_support"]:
        return "support_started"
    return "safe_no_action"


def record_visits(ctx: RunContext, day: str, cases: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Record, for every person on the day's published lists, what a visit that morning finds."""
    at = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(VISIT_HOUR), JST)
    entries = published(ctx.settings.home, day)[0]
    found: dict[str, str] = {}
    for rid, entry in sorted(entries.items()):
        found[rid] = visit_outcome(cases.get(rid), at)
        outreach.record_visit(ctx.settings, outreach.visit(entry["entry_id"], found[rid], day, None))
    return visit_rows(day, entries, found)


def judge(
    home: Path, truth: dict[str, Any], days: list[str], visits: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Every figure of the evaluation from the handed-over files and the truth."""
    sectors = partner_sectors(home)
    views: list[DayView] = [read_day(home, day) for day in days]
    violations = [v for view in views for v in privacy_violations(view, sectors)]
    found = collapses(truth, views, sectors)
    slow = slow_cases(truth, views)
    return {
        "town": {k: truth[k] for k in ("seed", "residents", "days", "start")},
        "days": len(views),
        "watched_per_day": round(sum(len(v.watched) for v in views) / max(1, len(views)), 1),
        "entries": {t: sum(1 for v in views for e in v.entries.values() if e["tier"] == t)
                    for t in ("urgent", "high", "watch")},
        "collapse": found,
        "false_alarms": false_alarms(truth, views),
        "false_urgent": false_alarms(truth, views, URGENT),
        "by_collapse_hour": recall_by_hour(truth, views, sectors),
        "listed_after_emergency": listed_after_emergency(truth, views),
        "slow": slow,
        "urgent_in_known_hospital_stay": urgent_in_known_hospital_stay(truth, views),
        "privacy": {"violations": {c: sum(1 for v in violations if v["check"] == c) for c in PRIVACY_CHECKS},
                    "detail": violations},
        "missed": missed(truth, views, found, slow),
        "prevention": listed_in_time(truth, views),
        "calibration": calibration(visits) if visits is not None else None,
    }  # fmt: skip


def run_town(
    residents: int,
    days: int,
    seed: int,
    outcomes: bool,
    home: Path,
    progress: OnProgress,
    environ: Mapping[str, str],
    collapse_per: int | None = None,
) -> dict[str, Any]:
    """Write a town into an empty home, run its days in process (visiting when asked) and judge the lists."""
    from mimamori_demo.town import generate_town
    from mimamori_demo.town.generate import default_truth_path

    if home.exists() and any(home.iterdir()):
        raise InputError(f"{home} is not empty; mimamori eval needs a fresh data home")
    progress("町を生成 / building the town", 0, 1)
    town = generate_town(home, residents=residents, days=days, seed=seed, collapse_per=collapse_per)
    ctx = RunContext.open(home_environment(home, environ))
    truth = json.loads(default_truth_path(home).read_text(encoding="utf-8"))
    cases = {s["resident_id"]: s for s in truth["scenarios"]}
    visited: list[dict[str, Any]] = []
    for i, day in enumerate(town.run_dates):
        progress(f"日次実行 / daily run {day}", i, len(town.run_dates))
        daily.run_day(ctx, day)
        if outcomes:
            visited += record_visits(ctx, day, cases)
    progress("評価 / judging", len(town.run_dates), len(town.run_dates))
    result = judge(home, truth, town.run_dates, visited if outcomes else None)
    counts: dict[str, int] = {}
    for row in visited:
        counts[row["outcome"]] = counts.get(row["outcome"], 0) + 1
    return {**result, "outcomes_recorded": dict(sorted(counts.items())) if outcomes else None}


def evaluate_town(
    residents: int,
    days: int,
    seed: int,
    outcomes: bool,
    home: Path | None,
    progress: OnProgress,
    environ: Mapping[str, str],
    collapse_per: int | None = None,
) -> dict[str, Any]:
    """run_town in the given home, or in a temporary folder removed afterwards."""
    if home is not None:
        return run_town(residents, days, seed, outcomes, home.resolve(), progress, environ, collapse_per)
    with tempfile.TemporaryDirectory(prefix="mimamori-eval-") as folder:
        return run_town(
            residents, days, seed, outcomes, Path(folder) / "home", progress, environ, collapse_per
        )


def _ratio(part: int, whole: int, share: float | None) -> str:
    return f"{share:.2f} ({part}/{whole})" if share is not None else f"- ({part}/{whole})"


def report_lines(r: dict[str, Any]) -> list[str]:
    """The evaluation as lines for staff: Japanese labels first, English beside them."""
    c, f, slow = r["collapse"], r["false_alarms"], r["slow"]
    town = r["town"]
    visits = r["outcomes_recorded"]
    lines = [
        f"評価 / evaluation: 住民 residents {town['residents']}, {r['days']} 日 days, seed {town['seed']}, "
        f"訪問結果 outcomes: {'記録 ' + json.dumps(visits) if visits is not None else 'なし none'}",
        f"見守り対象 / watched per day: {r['watched_per_day']}   リスト件数 / entries: "
        + ", ".join(f"{t} {n}" for t, n in r["entries"].items()),
        f"倒れ（2系統以上）/ collapses with ≥2 partner feeds: {c['cases']} 件 "
        f"(1系統以下で除外 / fewer feeds, left out: {c['fewer_than_two_feeds']}; "
        f"期間未了 / window not over: {c['window_not_over']})",
        "  1日以内の発見率 / recall within 1 day: "
        + _ratio(c["within_1_day"], c["cases"], c["recall_1_day"]),
        "  2日以内の発見率 / recall within 2 days: "
        + _ratio(c["within_2_days"], c["cases"], c["recall_2_days"]),
        f"  検出遅れ中央値 / median detection delay: {c['median_delay_days']} 日目 day "
        f"(1 = first morning list covering the collapse); 倒れた日から / after the collapse date: "
        f"{c['median_days_after_collapse_date']} 日 days",
        f"誤警報 / false urgent+high per 1,000 watched per day: {f['per_1000_per_day']} "
        f"({f['entries']} 件 entries / {f['watched_resident_days']} 人日 resident-days) "
        f"by scenario {f['by_scenario']} by rule {f['by_top_rule']}",
    ]
    fu = r["false_urgent"]
    lines.append(
        f"誤至急 / false urgent per 1,000 watched per day: {fu['per_1000_per_day']} "
        f"({fu['entries']} 件 entries); 入院の報告前を含む / counting unreported hospital admissions too: "
        f"urgent {fu['strict_per_1000_per_day']}, urgent+high {f['strict_per_1000_per_day']}"
    )
    lines.append("倒れの時刻別・翌朝（暦日）/ collapses by hour, next calendar morning:")
    lines += hour_table(r["by_collapse_hour"])
    after = r["listed_after_emergency"]
    lines.append(
        f"救急要請後の掲載 / listings after emergency_called: {after['entries']} 件 entries "
        f"({after['residents']} 人 residents)"
        + ("" if visits is not None else " (訪問結果なしのため参考値 / no outcomes recorded: indicative)")
    )
    for scenario, label in (("decline", "衰え / decline"), ("bereavement", "死別 / bereavement")):
        s = slow[scenario]
        lines.append(
            f"{label} 14日以内に発見 / found within 14 days: {_ratio(s['found'], s['cases'], s['share'])}"
            f" (期間未了 / window not over: {s['window_not_over']})"
        )
    lines.append(
        "入院判明後の至急 / urgent while a hospital stay was known: "
        f"{r['urgent_in_known_hospital_stay']['entries']}"
    )
    privacy = r["privacy"]["violations"]
    lines.append(
        f"プライバシー / privacy: 同意なし no_consent {privacy['no_consent']}, "
        f"撤回後 after_withdrawal {privacy['after_withdrawal']}, "
        f"同意範囲外 out_of_scope {privacy['out_of_scope']}, "
        f"対象外 not_eligible {privacy['not_eligible']}"
    )
    for name, p in r["prevention"].items():
        lines.append(
            f"予防 / prevention {name}: {p['days']}日以内に掲載 / listed within {p['days']} days: "
            f"{_ratio(p['found'], p['cases'], p['share'])} by variant "
            + json.dumps(p["by_variant"], ensure_ascii=False)
            + f" (期間未了 / open {p['window_not_over']}, 対象外 / not watched {p['not_watched']})"
        )
    if r.get("calibration"):
        lines.append(
            "段階別の確認率 / confirmed share per tier: "
            + ", ".join(
                f"{t} {_ratio(c['confirmed'], c['visited'], c['share'])}"
                for t, c in r["calibration"]["tiers"].items()
            )
        )
    lines.append(f"見逃し・遅れ / missed or late cases: {len(r['missed'])}")
    lines += [f"  {m['scenario']} {m['resident_id']}: " + " | ".join(m["facts"]) for m in r["missed"]]
    return lines


def main(
    residents: int,
    days: int,
    seed: int,
    outcomes: bool,
    home: Path | None,
    json_path: Path | None,
    console: Console,
    out: Console,
    report_path: Path | None = None,
    collapse_per: int | None = None,
) -> dict[str, Any]:
    """The `mimamori eval` command: progress on the console, figures on `out`, JSON and HTML when asked."""
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    )  # fmt: skip
    with bar:
        task = bar.add_task("評価 / evaluation", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        result = evaluate_town(
            residents, days, seed, outcomes, home, progress, process_environment(), collapse_per
        )
    lines = report_lines(result)
    for line in lines:
        out.print(line, highlight=False)
    if report_path is not None:
        from mimamori_demo.eval_report import write_report  # matplotlib only when a report is asked for

        write_report(report_path, result, lines)
        out.print(f"HTML: {report_path}", highlight=False)
    if json_path is not None:
        json_path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        out.print(f"JSON: {json_path}", highlight=False)
    return result
