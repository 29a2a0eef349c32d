"""What each CLI command does, over plain values; cli.py only parses arguments."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from mimamori import audit_commands, daily, reading
from mimamori.settings import Settings, database_url, holds_audit_signer, load_settings, warehouse_url
from warehouse.db import migrate, session_scope, utcnow
from warehouse.errors import InputError, NotFoundError
from warehouse.models import (
    PipelineRun,
    WatchlistEntry,
)
from warehouse.vocabulary import DeliveryStatus, RunStatus

STEP_LABELS = {
    "prepare": "同意・住民台帳",
    "ingest": "受信・検証・格納",
    "assess_feeds": "フィード状況",
    "build": "リスト作成",
    "publish": "地区別に発行",
}


def checkpoint_after_command() -> None:
    """After a command: checkpoint when a warehouse exists (never create one, or keys, just for this)."""
    url = database_url()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return
    if not holds_audit_signer():  # a container handed no signing key (the migration) signs nothing
        return
    settings = load_settings()
    migrate(settings.database_url)
    daily.checkpoint(settings)


def warehouse_settings() -> Settings:
    """Settings, with the warehouse schema brought up to date (and a new warehouse's empty log signed)."""
    settings = load_settings()
    migrate(settings.database_url)
    daily.start_audit(settings)
    return settings


def migrate_warehouse() -> str:
    """Migrate the configured warehouse and say where."""
    url = warehouse_url()  # the database alone: the migration container is handed no key
    migrate(url)
    return f"warehouse schema is current: {url.split('@')[-1]}"


def run(date: str, console: Console, out: Console) -> None:
    """Run one day in process with a step display, then a one-screen summary."""
    day = daily.parse_run_date(date).isoformat()
    with console.status(f"{day}: 開始") as status:
        summary = daily.run_day(day, progress=lambda step: status.update(f"{day}: {STEP_LABELS[step]}"))
    ingest, built = summary["ingest"], summary["build"]
    deliveries = ingest["deliveries"]
    out.print(
        f"{day}: 配信 {sum(deliveries.values())} 件 (隔離 {deliveries.get('quarantined', 0)}), "
        f"同意なし除外 {ingest['dropped'].get('no_consent', 0)} 行, リスト "
        + ", ".join(f"{k} {v}" for k, v in built["tiers"].items())
        + f" → {summary['publish']['outbox']}",
        highlight=False,
    )


def watchlist(date: str, fmt: str, districts: Sequence[str] = (), all_districts: bool = False) -> str:
    """A published list for an explicit scope (districts, or all of them); every identity shown is audited."""
    return reading.watchlist(warehouse_settings(), date, fmt, districts, all_districts)


def record_outcome(
    entry_id: str, outcome: str, visited_on: str, follow_up_on: str | None, note: str | None = None
) -> str:
    """Record an outreach outcome against a list entry (audited; a same-day record is corrected)."""
    from watchlist.outcomes import OUTCOMES, record

    if outcome not in OUTCOMES:
        raise InputError(f"unknown outcome {outcome!r}; one of: {', '.join(OUTCOMES)}")
    visited = daily.parse_run_date(visited_on)
    follow = daily.parse_run_date(follow_up_on) if follow_up_on else None
    settings = warehouse_settings()
    with session_scope(settings.database_url) as session:
        entry = session.get(WatchlistEntry, entry_id)
        if entry is None:
            raise NotFoundError(f"no list entry {entry_id}")
        record(session, settings.vault_keys, entry, outcome, visited, follow, note, settings.actor, utcnow())
    return f"記録しました / recorded: {entry_id} {outcome} ({visited})"


def rules_report(since: str | None) -> str:
    """Per rule, how many listings cited it and the share that outreach outcomes confirmed."""
    from watchlist.feedback import rule_report

    start = daily.parse_run_date(since) if since else None
    settings = warehouse_settings()
    with session_scope(settings.database_url) as session:
        standings = rule_report(session, start)
    if not standings:
        return "対象期間のリストはありません / no listings in the period"
    table = Table(title=f"ルール別の確認率 / confirmed share per rule（{start or '全期間'}〜）")
    for header in ("ルール / rule", "版"):
        table.add_column(header)
    for header in ("掲載 / listed", "結果あり / visited", "確認 / confirmed", "確認率"):
        table.add_column(header, justify="right")
    for r in standings:
        share = "-" if r.confirmed_share is None else f"{r.confirmed_share:.0%}"
        table.add_row(r.rule_id, r.rule_version, str(r.listed), str(r.visited), str(r.confirmed), share)
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(table)
    legend = "確認 = 支援開始・医療紹介・救急要請・入院・死亡 / confirmed = a real need was found"
    return console.export_text().rstrip() + "\n" + legend


def demo(
    residents: int,
    days: int,
    seed: int,
    start: str,
    truth: Path | None,
    force: bool,
    through_airflow: bool,
    console: Console,
    out: Console,
) -> None:
    """Write a synthetic town; with through_airflow, run every day through the DAG and summarise."""
    from mimamori.town import generate_town

    settings = load_settings()
    if settings.production:
        raise InputError("the synthetic town is for the embedded default, never a production data home")
    home = settings.home
    if any(home.glob("inbox/*")) or (home / "partners.yaml").exists():
        if not force:
            raise InputError(f"{home} already holds a town; use --force to replace it")
        _clear_home(home)
        settings = load_settings()
    first = daily.parse_run_date(start)
    began = time.monotonic()
    with _progress_bar(console) as bar:
        task = bar.add_task("町を生成 / building the town", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=f"町を生成: {stage}", completed=done, total=total)

        town = generate_town(
            home, residents=residents, days=days, seed=seed, start=first, truth_path=truth, progress=progress
        )
    out.print(
        f"町を生成しました / town written: {town.residents} 人, {town.partners} 事業者, "
        f"{town.deliveries} 配信 → {home}  (正解データ / ground truth: {town.truth_path})",
        highlight=False,
    )
    if through_airflow:
        _through_airflow(settings, town.run_dates, console, out)
        out.print(f"所要時間 / wall time: {time.monotonic() - began:.0f} s", highlight=False)
    _print_demo_accounts(settings, out)


def _print_demo_accounts(settings: Settings, out: Console) -> None:
    """One portal account per role, printed once to the terminal (never written to a file)."""
    from mimamori.user_commands import demo_accounts

    migrate(settings.database_url)
    daily.start_audit(settings)
    out.print(demo_accounts(settings), markup=False, highlight=False)


def _progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _clear_home(home: Path) -> None:
    folders = ("inbox", "outbox", "register", "consents", "quarantine", "archive", "airflow", "keys", "audit")
    for name in folders:
        shutil.rmtree(home / name, ignore_errors=True)
    for name in (
        "partners.yaml",
        "municipality.yaml",
        "warehouse.db",
        "warehouse.db-wal",
        "warehouse.db-shm",
    ):
        (home / name).unlink(missing_ok=True)


def _through_airflow(settings: Settings, dates: list[str], console: Console, out: Console) -> None:
    from mimamori.airflow_local import run_days

    migrate(settings.database_url)
    with _progress_bar(console) as bar:
        task = bar.add_task("Airflow DAG mimamori_daily", total=len(dates))

        def on_day(day: str, state: str) -> None:
            bar.update(task, advance=1, description=f"Airflow DAG mimamori_daily: {day} {state}")

        log_path = run_days(settings.home, dates, on_day)
    out.print(summary_table(settings, dates))
    out.print(
        f"リスト / lists: {settings.path('outbox')}/<日付>/<地区>.{{html,csv,json}}   "
        f"Airflow ログ / log: {log_path}",
        highlight=False,
    )


def summary_table(settings: Settings, dates: list[str]) -> Table:
    """Per day: deliveries processed and quarantined, rows dropped without consent, list size per tier."""
    table = Table(title="見守りリスト 日次サマリー / daily summary (Airflow DAG runs)")
    for header in (
        "日付 date",
        "配信 deliveries",
        "隔離 quarantined",
        "同意なし除外 no consent",
        "至急 urgent",
        "高 high",
        "注意 watch",
        "DAG run",
    ):
        table.add_column(header, justify="right")
    with session_scope(settings.database_url) as session:
        for day in dates:
            run = session.execute(
                select(PipelineRun)
                .where(
                    PipelineRun.run_date == dt.date.fromisoformat(day),
                    PipelineRun.status == RunStatus.SUCCESS,
                )
                .order_by(PipelineRun.started_at.desc())
                .limit(1)
            ).scalar_one_or_none()
            if run is None:
                table.add_row(day, "-", "-", "-", "-", "-", "-", "failed")
                continue
            ingest, tiers = run.summary.get("ingest", {}), run.summary.get("build", {}).get("tiers", {})
            deliveries = ingest.get("deliveries", {})
            table.add_row(
                day,
                str(sum(deliveries.values())),
                str(deliveries.get(DeliveryStatus.QUARANTINED, 0)),
                str(ingest.get("dropped", {}).get("no_consent", 0)),
                str(tiers.get("urgent", 0)),
                str(tiers.get("high", 0)),
                str(tiers.get("watch", 0)),
                "✓" if run.dag_run_id else "",
            )
    return table


def audit_verify(head_file: Path | None = None) -> tuple[bool, str]:
    """Verify the chain, every signed checkpoint and an exported head if given; (ok, one-line message)."""
    return audit_commands.verify(warehouse_settings(), head_file)


def export_head() -> str:
    """The signed head of the audit log as JSON, for an auditor to keep outside the system."""
    return audit_commands.export_head(warehouse_settings())


def lineage(entry_id: str) -> str:
    """One entry's chain: rules and versions, signals, deliveries, consents, run, DAG run and code version."""
    return reading.lineage(warehouse_settings(), entry_id)
