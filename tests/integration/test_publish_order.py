"""Publishing commits the re-identification records before any file exists, and files appear whole.

The day's publish step is broken at each point (after re-identifying, at the commit, between the
files, after the last file, before the step is recorded): whatever is on disk afterwards, temporary
files included, may name only entries whose `reidentify` records are committed. The operator's rerun
then completes the outbox.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mimamori import daily
from mimamori.cli import steward as steward_commands
from mimamori.context import RunContext
from mimamori.settings import load_settings
from warehouse import audit
from warehouse.db import session_scope
from warehouse.models import AuditRecord
from watchlist import publish

pytestmark = pytest.mark.integration

FIRST, SECOND = "2026-11-02", "2026-11-03"
ENTRY = re.compile(r"WL-\d{8}-[0-9a-f]{10}")
POINTS = ("reidentified", "commit", "replace-1", "replace-2", "replace-3", "recorded")


class Crash(Exception):
    """Stands for the process dying at that point."""


def on_call(number: int, real: Callable[..., Any]) -> Callable[..., Any]:
    """A stand-in that crashes on the given call and behaves as `real` on the others."""
    calls = [0]

    def hook(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == number:
            raise Crash(f"call {number}")
        return real(*args, **kwargs)

    return hook


def arm(point: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the publish step crash at `point`."""
    if point == "reidentified":
        real_listing = publish.listing

        def listed_then_crash(*args: Any, **kwargs: Any) -> Any:
            real_listing(*args, **kwargs)
            raise Crash("after re-identifying")

        monkeypatch.setattr(publish, "listing", listed_then_crash)
    elif point == "commit":
        real_append, real_commit = audit.append, Session.commit

        def append(session: Session, actor: str, action: str, subject: str, **detail: Any) -> Any:
            session.info["reidentified"] = session.info.get("reidentified") or action == "reidentify"
            return real_append(session, actor, action, subject, **detail)

        def commit(session: Session) -> None:
            if session.info.get("reidentified"):
                raise Crash("at the commit of the re-identification")
            real_commit(session)

        monkeypatch.setattr(audit, "append", append)
        monkeypatch.setattr(Session, "commit", commit)
    elif point.startswith("replace-"):
        monkeypatch.setattr(os, "replace", on_call(int(point[-1]), os.replace))
    else:
        real_record = daily._record

        def crash_on_publish(settings: Any, run_id: str, step: str, summary: Any) -> Any:
            if step == "publish":
                raise Crash("before the step is recorded")
            return real_record(settings, run_id, step, summary)

        monkeypatch.setattr(daily, "_record", crash_on_publish)


def reidentified(url: str) -> set[str]:
    """Entry ids with a committed re-identification record."""
    with session_scope(url) as session:
        found = select(AuditRecord.subject).where(AuditRecord.action == "reidentify")
        return set(session.execute(found).scalars())


def named_on_disk(outbox: Path) -> dict[str, set[str]]:
    """Every file under the outbox (temporary ones too) and the entry ids it names."""
    return {
        str(p.relative_to(outbox)): set(ENTRY.findall(p.read_text(encoding="utf-8-sig", errors="replace")))
        for p in outbox.rglob("*")
        if p.is_file()
    }


def run_until_publish(day: str) -> str:
    """Open the day's run and run every step before publish; its run id."""
    run_id = daily.open_run(RunContext.from_environment(), day)
    for name in daily.STEPS[:-1]:
        getattr(daily, name)(RunContext.from_environment(), run_id)
    return run_id


@pytest.fixture
def second_day_listed(tiny: Path) -> Path:
    """The tiny home after its first day, with the held identity accepted so the second day lists someone."""
    daily.run_day(RunContext.from_environment(), FIRST)
    steward_commands.link_decide(1, accept=True)
    return tiny


@pytest.mark.parametrize("point", POINTS)
def test_a_crash_anywhere_in_publish_leaves_no_file_without_its_records(
    second_day_listed: Path, point: str, monkeypatch: pytest.MonkeyPatch
):
    url = load_settings().database_url
    outbox = second_day_listed / "outbox" / SECOND
    run_id = run_until_publish(SECOND)
    with monkeypatch.context() as patched:
        arm(point, patched)
        with pytest.raises(Crash):
            daily.publish(RunContext.from_environment(), run_id)
    records = reidentified(url)
    for name, entries in named_on_disk(outbox).items():
        assert entries <= records, f"{name} names entries without a re-identification record"

    outbox.mkdir(parents=True, exist_ok=True)  # what a kill inside a write leaves behind
    (outbox / f".D01.json.x{publish.PARTIAL}").write_text("half", encoding="utf-8")
    daily.run_day(RunContext.from_environment(), SECOND)  # the operator's rerun
    files = named_on_disk(outbox)
    assert sorted(files) == ["D01.csv", "D01.html", "D01.json"]  # whole files only, no temporary left
    assert all(entries and entries <= reidentified(url) for entries in files.values())
    assert "スズキ" in (outbox / "D01.json").read_text(encoding="utf-8")
