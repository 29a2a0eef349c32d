"""`mimamori demo`: write a synthetic town into the data home, and run it through the real Airflow DAG."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from mimamori import daily
from mimamori.context import open_warehouse
from mimamori.settings import Settings, load_settings
from warehouse.db import session_scope
from warehouse.errors import InputError
from warehouse.models import PipelineRun
from warehouse.vocabulary import DeliveryStatus, RunStatus


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
    from mimamori_demo.town import generate_town

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
    from mimamori.cli.users import demo_accounts

    out.print(demo_accounts(open_warehouse(settings)), markup=False, highlight=False)


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
    from mimamori_demo.airflow_local import run_days

    open_warehouse(settings)
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
