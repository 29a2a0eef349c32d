"""The daily run as small steps over plain values; the CLI and the Airflow DAG call these same functions."""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import uuid
from collections.abc import Callable
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors import health
from consent import forms
from consent.book import ConsentBook
from consent.importer import due_files, import_file
from consent.purge import purge
from identity.access import read_identities
from identity.keys import KeyRing
from identity.link import Linker, identity_keys
from identity.register import sync_register
from identity.rotation import active_pseudonym_keys
from ingest.load import Ingest
from lineage import events as lineage_events
from lineage.steps import Declared
from mimamori import archive_purge, retention_run
from mimamori.municipality import Municipality
from mimamori.settings import Settings
from warehouse import checkpoints
from warehouse.db import migrate, session_scope, utcnow
from warehouse.errors import InputError
from warehouse.models import PipelineRun
from warehouse.private_files import narrow
from warehouse.runs import get_run
from warehouse.vocabulary import JST, RunStatus
from watchlist.build import build_watchlist
from watchlist.publish import publish as publish_lists
from watchlist.publish import write_outbox

if TYPE_CHECKING:
    from mimamori.context import RunContext

log = logging.getLogger(__name__)

STEPS = ("prepare", "ingest", "assess_feeds", "build", "publish")

# What the pieces of the day read and write (the jobs of the DAGs declare the same pieces on their own).
IMPORT_CONSENTS = Declared(
    reads=("consent_tombstones",),
    writes=("consent_records", "consent_forms", "key_state", "audit_log"),
    reads_files=("consents",),
)
PURGE = Declared(
    writes=(
        "consent_records", "consent_tombstones", "signals", "reading_days", "watchlist_entries",
        "watchlist_reasons", "lineage_links", "watch_population", "identity_vault", "link_memory",
        "link_reviews", "held_rows", "archive_members", "audit_log",
    ),
)  # fmt: skip
RETENTION = Declared(
    writes=(
        "signals", "reading_days", "provision_records", "provision_amendments", "deliveries",
        "archive_members", "consent_forms", "audit_log",
    ),
)  # fmt: skip
REGISTER = Declared(
    writes=("identity_vault", "watch_population", "key_state", "audit_log"), reads_files=("register",)
)


def parse_run_date(text: str) -> dt.date:
    """A run date from YYYY-MM-DD, or a clear InputError."""
    try:
        return dt.date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise InputError(f"not a date (expected YYYY-MM-DD): {text!r}") from None


def run_date_for(params: dict[str, Any] | None, logical_date: dt.datetime | None) -> str:
    """The run date of a DAG run: the `run_date` param when given, else the logical date in JST."""
    if params and params.get("run_date"):
        return parse_run_date(str(params["run_date"])).isoformat()
    if logical_date is None:
        raise InputError("neither a run_date param nor a logical date was given")
    return logical_date.astimezone(JST).date().isoformat()


@cache
def code_version() -> str:
    """The package version plus the git commit when running from a checkout."""
    try:
        base = version("mimamori")
    except PackageNotFoundError:
        base = "unknown"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{base}+{commit}" if commit else base


def _record(settings: Settings, run_id: str, step: str, result: dict[str, Any]) -> dict[str, Any]:
    with session_scope(settings.database_url) as session:
        run = get_run(session, run_id)
        run.summary = {**run.summary, step: result}
    return result


def open_run(ctx: RunContext, run_date: str, dag_run_id: str | None = None) -> str:
    """Migrate the warehouse and open a run for the date; returns the run id."""
    settings = ctx.settings
    day = parse_run_date(run_date)
    migrate(settings.database_url)
    start_audit(settings)
    run_id = str(uuid.uuid4())
    with session_scope(settings.database_url) as session:
        session.add(
            PipelineRun(
                run_id=run_id,
                run_date=day,
                dag_run_id=dag_run_id,
                code_version=code_version(),
                status=RunStatus.RUNNING,
                started_at=utcnow(),
                summary={},
            )
        )
    lineage_events.pipeline_event(ctx, run_id, "START")
    return run_id


@lineage_events.step("prepare", IMPORT_CONSENTS | PURGE | RETENTION | REGISTER)
def prepare(ctx: RunContext, run_id: str) -> dict[str, Any]:
    """Import consent files dated up to the run date, then bring the register in step."""
    settings = ctx.settings
    run = ctx.run(run_id)
    with session_scope(settings.database_url) as session:
        keys = active_pseudonym_keys(session, settings.pseudonym_keys)
        imported = import_consents(session, settings, keys, run.run_date)
        purged = purge(session, ConsentBook.load(session), run.run_date, settings.actor)
        archive_purge.forget(session, settings, purged.residents)
        book = ConsentBook.load(session)
        synced = sync_register(
            session,
            ctx.storage.register,
            run.run_date,
            keys,
            settings.vault_keys,
            book.residents(),
        )
    expired = retention_run.apply(settings, run.run_date)
    return _record(
        settings,
        run_id,
        "prepare",
        {
            "consents": imported,
            "purged": len(purged.residents),
            "signals_expired": expired["signals"],
            "register": synced.__dict__,
        },
    )


def import_consents(session: Session, settings: Settings, keys: KeyRing, day: dt.date) -> dict[str, int]:
    """Import the consent files dated up to the day (by the date in their name); returns counts."""
    imported = {"added": 0, "unchanged": 0, "refused": 0, "recognised": 0}
    for path in due_files(settings.path("consents"), day):
        data = path.read_bytes()
        if forms.recognised(session, forms.checksum(data)):
            imported["recognised"] += 1  # the same file imported before: removed after this step
            continue
        result = import_file(path, session, keys, settings.vault_keys, settings.actor)
        forms.keep(session, settings.path("consents"), settings.vault_keys, path.name, data, day)
        imported["added"] += result.added
        imported["unchanged"] += result.unchanged
        imported["refused"] += len(result.refused)
        for consent_id, line, reason in result.refused:
            log.warning("consent %s (%s line %d) refused: %s", consent_id, path.name, line, reason)
    return imported


def _linker(settings: Settings, book: ConsentBook, place: Municipality) -> Linker:
    consented = book.residents()
    with session_scope(settings.database_url) as session:
        people = read_identities(
            session,
            settings.vault_keys,
            None,
            actor=settings.actor,
            purpose="linkage",
            subject="linkage candidates",
        )
    return Linker(
        {
            resident: identity_keys(
                p["name_kana"],
                p["name_kanji"],
                p["birth_date"],
                p["address"],
                p["phone"],
                place.prefecture,
                place.city,
            )
            for resident, p in people.items()
            if resident in consented
        }
    )


@lineage_events.step(
    "ingest",
    Declared(
        reads=("consent_records", "identity_vault"),
        writes=(
            "deliveries", "validation_results", "signals", "reading_days", "summarised_deliveries",
            "delivery_counts", "provision_records", "provision_amendments", "held_rows", "link_reviews",
            "link_memory", "lineage_links", "archive_members", "key_state", "audit_log",
        ),
        reads_files=("inbox",),
    ),
)  # fmt: skip
def ingest(ctx: RunContext, run_id: str, partner: str | None = None) -> dict[str, Any]:
    """Read every ready delivery due by the run date (or one partner's) through the ingest boundary."""
    settings = ctx.settings
    run = ctx.run(run_id)
    with session_scope(settings.database_url) as session:
        book = ConsentBook.load(session)
    linker = _linker(settings, book, ctx.municipality)
    with session_scope(settings.database_url) as session:
        keys = active_pseudonym_keys(session, settings.pseudonym_keys)
        summary = Ingest(ctx, session, keys, book, linker, run).run(partner)
    retention_run.archive_final(settings, run.run_date, partner)  # Data Docs: updated by each Checkpoint
    return _record(settings, run_id, "ingest" if partner is None else f"ingest:{partner}", summary.as_dict())


@lineage_events.step("assess_feeds", Declared(reads=("deliveries",), writes=("feed_health",)))
def assess_feeds(ctx: RunContext, run_id: str) -> dict[str, Any]:
    """Record each partner's feed status for the run date."""
    settings = ctx.settings
    run = ctx.run(run_id)
    with session_scope(settings.database_url) as session:
        statuses = health.assess(session, ctx.partners, run.run_date)
    return _record(settings, run_id, "assess_feeds", statuses)


@lineage_events.step(
    "build",
    Declared(
        reads=("signals", "deliveries", "feed_health", "watch_population", "consent_records", "outcomes"),
        writes=(
            "reading_days",
            "summarised_deliveries",
            "watchlist_entries",
            "watchlist_reasons",
            "lineage_links",
        ),
    ),
)
def build(ctx: RunContext, run_id: str) -> dict[str, Any]:
    """Combine the evidence into the day's tiers and reasons."""
    settings = ctx.settings
    run = ctx.run(run_id)
    names = {p.id: p.name for p in ctx.partners.values()}
    with session_scope(settings.database_url) as session:
        final = _published(session, run)
        if final is not None:
            return _record(
                settings, run_id, "build", {"tiers": final.get("tiers", {}), "skipped": "published"}
            )
        feeds = health.statuses(session, run.run_date)
        received = frozenset(p for p, status in feeds.items() if status in health.RECEIVED)
        result = build_watchlist(
            session,
            run_id,
            run.run_date,
            ctx.rules,
            ConsentBook.load(session),
            feeds,
            received,
            names,
        )
    return _record(
        settings,
        run_id,
        "build",
        {"population": result.population, "tiers": result.tiers, "not_received": list(result.not_received)},
    )


@lineage_events.step(
    "publish",
    Declared(
        reads=("watchlist_reasons", "watch_population", "feed_health", "identity_vault"),
        writes=("watchlist_entries", "audit_log"),
        writes_files=("outbox",),
    ),
)
def publish(ctx: RunContext, run_id: str) -> dict[str, Any]:
    """Re-identify listed entries per district and write the outbox."""
    settings = ctx.settings
    run = ctx.run(run_id)
    names = {p.id: p.name for p in ctx.partners.values()}
    with session_scope(settings.database_url) as session:
        final = _published(session, run)
        if final is not None:  # a published list is never rewritten
            return _record(settings, run_id, "publish", {**final, "skipped": "published"})
        lists = publish_lists(
            session,
            settings.vault_keys,
            run.run_date,
            ctx.municipality.districts,
            names,
            settings.actor,
            ctx.rules.capacity,
        )
    # the re-identification records are committed: only now may the named lists reach the disk
    for listed in lists:
        write_outbox(ctx.storage.outbox, listed)
    narrow(ctx.storage.outbox)  # lists name residents: 0700/0600 whatever the umask
    counts = {str(listed.district_code): len(listed.entries) for listed in lists}
    return _record(
        settings,
        run_id,
        "publish",
        {"districts": counts, "outbox": str(ctx.storage.outbox / run.run_date.isoformat())},
    )


def _published(session: Session, run: PipelineRun) -> dict[str, Any] | None:
    """The build and publish summary of an earlier successful run of the same date, if there was one."""
    earlier = session.execute(
        select(PipelineRun)
        .where(
            PipelineRun.run_date == run.run_date,
            PipelineRun.status == RunStatus.SUCCESS,
            PipelineRun.run_id != run.run_id,
        )
        .order_by(PipelineRun.started_at)
        .limit(1)
    ).scalar_one_or_none()
    if earlier is None or "publish" not in earlier.summary:
        return None
    return {"tiers": earlier.summary.get("build", {}).get("tiers", {}), **earlier.summary["publish"]}


def close_run(ctx: RunContext, run_id: str) -> dict[str, Any]:
    """Mark the run successful and return its summary."""
    settings = ctx.settings
    with session_scope(settings.database_url) as session:
        run = get_run(session, run_id)
        run.status, run.finished_at = RunStatus.SUCCESS, utcnow()
        summary = dict(run.summary)
    checkpoint(settings)
    lineage_events.pipeline_event(ctx, run_id, "COMPLETE")
    return summary


def checkpoint(settings: Settings) -> None:
    """Sign the audit log's size and head outside the database once it verifies against the last checkpoint.

    A worker without the signing key (a reader) signs nothing: the next signing worker covers its records.
    """
    if settings.audit_keys is None:
        return
    with session_scope(settings.database_url) as session:
        checkpoints.checkpoint(
            session, settings.path("audit"), settings.audit_keys, settings.audit_public_keys
        )


def start_audit(settings: Settings) -> None:
    """After migrating: sign the empty log of a new warehouse, so a checkpoint file can never be re-made."""
    if settings.audit_keys is None:
        return
    with session_scope(settings.database_url) as session:
        checkpoints.start(session, settings.path("audit"), settings.audit_keys, settings.audit_public_keys)


def fail_run(ctx: RunContext, run_id: str, reason: str) -> None:
    """Mark a run failed with a one-line reason."""
    with session_scope(ctx.settings.database_url) as session:
        run = session.get(PipelineRun, run_id)
        if run is not None:
            run.status, run.finished_at = RunStatus.FAILED, utcnow()
            run.summary = {**run.summary, "error": reason}
    lineage_events.pipeline_event(ctx, run_id, "FAIL", reason)


def run_day(
    ctx: RunContext,
    run_date: str,
    progress: Callable[[str], None] | None = None,
    dag_run_id: str | None = None,
) -> dict[str, Any]:
    """Run every step of one day in process, in order."""
    run_id = open_run(ctx, run_date, dag_run_id)
    steps: dict[str, Callable[[RunContext, str], dict[str, Any]]] = {
        "prepare": prepare,
        "ingest": ingest,
        "assess_feeds": assess_feeds,
        "build": build,
        "publish": publish,
    }
    try:
        for name in STEPS:
            if progress:
                progress(name)
            steps[name](ctx, run_id)
    except Exception as problem:
        fail_run(ctx, run_id, f"{type(problem).__name__}: {problem}")
        raise
    summary = close_run(ctx, run_id)
    return {"run_id": run_id, **summary}
