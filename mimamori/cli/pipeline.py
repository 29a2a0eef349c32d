"""The pipeline's CLI commands: each builds its context once from the environment and calls the library."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from mimamori import daily, outreach
from mimamori.cli import audit as audit_commands
from mimamori.cli import reading
from mimamori.context import RunContext, warehouse_settings
from mimamori.settings import (
    database_url,
    holds_audit_signer,
    load_settings,
    process_environment,
    warehouse_url,
)
from warehouse.db import has_schema, migrate, session_scope

STEP_LABELS = {
    "prepare": "同意・住民台帳",
    "ingest": "受信・検証・格納",
    "assess_feeds": "フィード状況",
    "build": "リスト作成",
    "publish": "地区別に発行",
}


def checkpoint_after_command() -> None:
    """After a command: checkpoint when a warehouse exists (never create one, or keys, just for this)."""
    environ = process_environment()
    if not has_schema(database_url(environ)):
        return
    if not holds_audit_signer(environ):  # a container handed no signing key (the migration) signs nothing
        return
    settings = load_settings(environ)
    migrate(settings.database_url)
    daily.checkpoint(settings)


def migrate_warehouse() -> str:
    """Migrate the configured warehouse and say where."""
    url = warehouse_url(process_environment())  # the database alone: the migration container is handed no key
    migrate(url)
    return f"warehouse schema is current: {url.split('@')[-1]}"


def run(date: str, console: Console, out: Console) -> None:
    """Run one day in process with a step display, then a one-screen summary."""
    day = daily.parse_run_date(date).isoformat()
    ctx = RunContext.from_environment()
    with console.status(f"{day}: 開始") as status:
        summary = daily.run_day(ctx, day, progress=lambda step: status.update(f"{day}: {STEP_LABELS[step]}"))
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
    ctx = RunContext.from_environment().with_warehouse()
    return reading.watchlist(ctx, date, fmt, districts, all_districts)


def record_outcome(
    entry_id: str, outcome: str, visited_on: str, follow_up_on: str | None, note: str | None = None
) -> str:
    """Record an outreach outcome against a list entry (audited; a same-day record is corrected)."""
    found = outreach.visit(entry_id, outcome, visited_on, follow_up_on, note)
    return outreach.record_visit(warehouse_settings(), found)


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


def audit_verify(head_file: Path | None = None) -> tuple[bool, str]:
    """Verify the chain, every signed checkpoint and an exported head if given; (ok, one-line message)."""
    return audit_commands.verify(warehouse_settings(), head_file)


def export_head() -> str:
    """The signed head of the audit log as JSON, for an auditor to keep outside the system."""
    return audit_commands.export_head(warehouse_settings())


def lineage(entry_id: str) -> str:
    """One entry's chain: rules and versions, signals, deliveries, consents, run, DAG run and code version."""
    return reading.lineage(warehouse_settings(), entry_id)
