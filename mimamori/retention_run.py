"""Retention of a day and of the retention job: every period comes from settings.retention.

Raw data leaves the partner inbox once its delivery is loaded (sealed into the archive) or discarded
(deleted); sealed copies, consent forms and outbox lists are deleted when past their period. Every move and
deletion is an audit record committed before the files change, so a crash leaves at worst a record of a
deletion that the next run finishes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from connectors import archive
from consent import forms
from mimamori.archive_purge import held_back
from mimamori.settings import Settings
from warehouse import audit
from warehouse.db import session_scope
from warehouse.errors import InputError
from warehouse.models import ArchiveMember, Delivery, PipelineRun
from warehouse.private_files import narrow, remove_tree, write_private
from warehouse.retention import expire_provision_records, expire_signals

LOADED, DISCARDED = "loaded", "discarded"
STALE = ("refused", "waiting")  # never read: kept in the inbox for the quarantine period at most
KEPT_SINCE = "kept_since"  # the first day retention saw a quarantined folder


def _folders(root: Path) -> list[Path]:
    """`root/<partner>/<delivery>` folders, never through a link."""
    if not root.is_dir():
        return []
    return [
        f for f in sorted(root.glob("*/*")) if f.is_dir() and not f.is_symlink() and not f.parent.is_symlink()
    ]


def archive_final(settings: Settings, run_date: dt.date, partner: str | None = None) -> dict[str, int]:
    """Seal every loaded delivery's inbox folder (of one partner) into the archive, delete discarded ones."""
    inbox, root = settings.path("inbox"), settings.path("archive")
    with session_scope(settings.database_url) as session:
        final = {
            (d.partner_id, d.delivery_id): d.status
            for d in session.execute(
                select(Delivery).where(Delivery.status.in_((LOADED, DISCARDED)))
            ).scalars()
        }
    done = {"archived": 0, "deleted": 0}
    for folder in _folders(inbox):
        status = final.get((folder.parent.name, folder.name))
        if status is None or partner not in (None, folder.parent.name):
            continue
        subject = f"{folder.parent.name}/{folder.name}"
        sealed_before = (archive.folder_for(root, folder.parent.name, folder.name) / archive.STAMP).exists()
        seal = status == LOADED and not sealed_before  # a re-sent copy never replaces what was loaded
        try:
            files = (
                archive.seal_delivery(
                    root, settings.vault_keys, folder.parent.name, folder.name, folder, run_date
                )
                if seal
                else 0
            )
        except InputError:  # its manifest is gone: nothing left to re-process it with
            seal, status = False, "no manifest"
        with session_scope(settings.database_url) as session:
            if seal:
                audit.append(
                    session, settings.actor, "archive", subject, files=files, on=run_date.isoformat()
                )
            else:
                why = "already archived" if sealed_before else status
                audit.append(session, settings.actor, "inbox_delete", subject, status=status, reason=why)
        remove_tree(folder)
        done["archived" if seal else "deleted"] += 1
    narrow(settings.path("quarantine"))  # sealed there by ingest, under whatever umask it had
    return done


def _expire_archive(settings: Settings, run_date: dt.date) -> int:
    cutoff = run_date - dt.timedelta(days=settings.retention.archive_days)
    root = settings.path("archive")
    old = [(p, d) for p, d, on in archive.archived(root) if on is None or on < cutoff]
    if not old:
        return 0
    with session_scope(settings.database_url) as session:
        audit.append(
            session,
            settings.actor,
            "retention",
            "archive",
            before=cutoff.isoformat(),
            deleted=len(old),
            deliveries=[f"{p}/{d}" for p, d in old],
        )
        for partner_id, delivery_id in old:
            if not settings.path("quarantine", partner_id, delivery_id).is_dir():
                session.execute(
                    delete(ArchiveMember).where(
                        ArchiveMember.partner_id == partner_id, ArchiveMember.delivery_id == delivery_id
                    )
                )
    for partner_id, delivery_id in old:
        remove_tree(archive.folder_for(root, partner_id, delivery_id))
    return len(old)


def _kept_since(folder: Path, run_date: dt.date, recorded: dict[tuple[str, str], dt.date]) -> dt.date:
    """The run date that quarantined the delivery; else the first day retention saw the folder."""
    known = recorded.get((folder.parent.name, folder.name))
    if known is not None:
        return known
    stamp = folder / KEPT_SINCE
    try:
        return dt.date.fromisoformat(stamp.read_text().strip())
    except (OSError, ValueError):
        write_private(stamp, run_date.isoformat().encode())
        return run_date


def _expire_folders(
    settings: Settings,
    kind: str,
    cutoff: dt.date,
    old: list[Path],
    settle: Callable[[Session, str, str], None],
) -> int:
    """Delete delivery folders past their period: one audit record, each delivery settled, then the files."""
    if not old:
        return 0
    with session_scope(settings.database_url) as session:
        audit.append(
            session,
            settings.actor,
            "retention",
            kind,
            before=cutoff.isoformat(),
            deleted=len(old),
            deliveries=[f"{f.parent.name}/{f.name}" for f in old],
        )
        for folder in old:
            settle(session, folder.parent.name, folder.name)
    for folder in old:
        remove_tree(folder)
    return len(old)


def _expire_quarantine(settings: Settings, run_date: dt.date) -> int:
    """Delete sealed quarantine copies kept longer than the quarantine period (audited)."""
    cutoff = run_date - dt.timedelta(days=settings.retention.quarantine_days)
    folders = _folders(settings.path("quarantine"))
    if not folders:
        return 0
    with session_scope(settings.database_url) as session:
        rows = session.execute(
            select(Delivery.partner_id, Delivery.delivery_id, PipelineRun.run_date).join(
                PipelineRun, PipelineRun.run_id == Delivery.run_id
            )
        ).all()
    recorded = {(p, d): day for p, d, day in rows}
    old = [f for f in folders if _kept_since(f, run_date, recorded) < cutoff]

    def settle(session: Session, partner_id: str, delivery_id: str) -> None:
        session.execute(
            delete(ArchiveMember).where(
                ArchiveMember.partner_id == partner_id, ArchiveMember.delivery_id == delivery_id
            )
        )
        held = held_back(session, partner_id, delivery_id)
        if held is not None:
            held.status = DISCARDED  # its sealed copy is gone: it can no longer be released

    return _expire_folders(settings, "quarantine", cutoff, old, settle)


def _expire_inbox(settings: Settings, run_date: dt.date) -> int:
    """Delete inbox folders refused or left incomplete for longer than the quarantine period (audited)."""
    cutoff = run_date - dt.timedelta(days=settings.retention.quarantine_days)
    with session_scope(settings.database_url) as session:
        # refused: recorded once, on its run's date; waiting: re-recorded each run, so since its arrival
        stale = {
            (p, d)
            for p, d, day, received in session.execute(
                select(Delivery.partner_id, Delivery.delivery_id, PipelineRun.run_date, Delivery.received_at)
                .join(PipelineRun, PipelineRun.run_id == Delivery.run_id)
                .where(Delivery.status.in_(STALE))
            ).all()
            if min(day, received.date()) < cutoff
        }
    old = [f for f in _folders(settings.path("inbox")) if (f.parent.name, f.name) in stale]

    def settle(session: Session, partner_id: str, delivery_id: str) -> None:
        session.execute(
            select(Delivery).where(Delivery.partner_id == partner_id, Delivery.delivery_id == delivery_id)
        ).scalar_one().status = DISCARDED

    return _expire_folders(settings, "inbox", cutoff, old, settle)


def _expire_outbox(settings: Settings, run_date: dt.date) -> int:
    cutoff = run_date - dt.timedelta(days=settings.retention.outbox_days)
    root = settings.path("outbox")
    old = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        try:
            day = dt.date.fromisoformat(folder.name)
        except ValueError:
            continue
        if day < cutoff and (folder.is_dir() or folder.is_symlink()):
            old.append(folder)
    if not old:
        return 0
    with session_scope(settings.database_url) as session:
        audit.append(
            session,
            settings.actor,
            "retention",
            "outbox",
            before=cutoff.isoformat(),
            deleted=len(old),
            days=[f.name for f in old],
        )
    for folder in old:
        remove_tree(folder)
    return len(old)


def _expire_validation_results(settings: Settings, run_date: dt.date) -> int:
    """Validation results (which hold no value) are kept as long as the signals they judged."""
    from expectations.validate import expire_results

    cutoff = run_date - dt.timedelta(days=settings.retention.signals_days)
    deleted = expire_results(settings.home, dt.datetime.combine(cutoff, dt.time(), tzinfo=dt.UTC))
    if deleted:
        with session_scope(settings.database_url) as session:
            subject, before = "validation_results", cutoff.isoformat()
            audit.append(session, settings.actor, "retention", subject, before=before, deleted=deleted)
    return deleted


def reseal(settings: Settings) -> int:
    """Re-encrypt the sealed archive and consent forms under the current vault key; returns how many files."""
    keys = settings.vault_keys
    return archive.reseal_all(settings.path("archive"), keys) + forms.reseal_all(
        settings.path("consents"), keys
    )


def settle_consent_forms(settings: Settings, run_date: dt.date) -> dict[str, int]:
    """Remove plain consent forms already sealed and recorded; delete sealed forms past their period."""
    folder = settings.path("consents")
    cutoff = run_date - dt.timedelta(days=settings.retention.consent_forms_days)
    with session_scope(settings.database_url) as session:
        removed = forms.remove_imported(session, folder)
        old = forms.expire(session, folder, settings.actor, cutoff)
    for path in old:
        path.unlink(missing_ok=True)
    return {"consent_forms_removed": removed, "consent_forms": len(old)}


def apply(settings: Settings, run_date: dt.date) -> dict[str, int]:
    """Delete what is past its retention period on the run date (each deletion audited); returns counts."""
    periods = settings.retention
    with session_scope(settings.database_url) as session:
        signals = expire_signals(session, run_date, settings.actor, periods.signals_days)
        records = expire_provision_records(session, run_date, settings.actor)
    moved = archive_final(settings, run_date)
    return {
        "signals": signals,
        "provision_records": records,
        "inbox_archived": moved["archived"],
        "inbox_deleted": moved["deleted"],
        "archive": _expire_archive(settings, run_date),
        "quarantine": _expire_quarantine(settings, run_date),
        "inbox_stale": _expire_inbox(settings, run_date),
        **settle_consent_forms(settings, run_date),
        "outbox": _expire_outbox(settings, run_date),
        "validation_results": _expire_validation_results(settings, run_date),
    }
