"""Each step's declared tables against the statements it really runs, captured over two small days.

The statements of every step body (no lineage machinery around it) are captured with SQLAlchemy's
`before_cursor_execute` event; a table after INSERT INTO, UPDATE or DELETE FROM is written, a table after
FROM or JOIN otherwise is read. The run record (`pipeline_runs`) is the run itself, not a dataset.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from lineage.steps import declared_for
from mimamori import daily, jobs
from mimamori.cli import consent as consent_commands
from mimamori.cli import steward as steward_commands
from mimamori.context import RunContext
from warehouse.models import Base

pytestmark = pytest.mark.integration

TABLES = frozenset(Base.metadata.tables)
RUN_RECORD = frozenset({"pipeline_runs"})
WRITTEN = re.compile(r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)\"?", re.I)
NAMED = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE)\s+\"?(\w+)\"?", re.I)


def tables_of(statement: str) -> tuple[set[str], set[str]]:
    """(read, written) warehouse tables of one SQL statement."""
    target = WRITTEN.match(statement)
    written = {target.group(1)} & TABLES if target else set()
    named = {name for name in NAMED.findall(statement) if name in TABLES}
    return named - written, written


class Capture:
    """Tables each step read and wrote, from the statements run while the step was current."""

    def __init__(self) -> None:
        self.step: str | None = None
        self.reads: defaultdict[str, set[str]] = defaultdict(set)
        self.writes: defaultdict[str, set[str]] = defaultdict(set)

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.step is None:
            return
        read, written = tables_of(statement)
        self.reads[self.step] |= read - RUN_RECORD
        self.writes[self.step] |= written - RUN_RECORD

    def run(self, step: str, function: Callable[..., Any], *args: Any) -> Any:
        """Run one step body with its statements counted for the step."""
        self.step = step
        try:
            return function(*args)
        finally:
            self.step = None

    def touched(self, step: str) -> tuple[frozenset[str], frozenset[str]]:
        """(tables only read, tables written) by the step."""
        return frozenset(self.reads[step] - self.writes[step]), frozenset(self.writes[step])


@contextmanager
def capturing() -> Iterator[Capture]:
    capture = Capture()
    event.listen(Engine, "before_cursor_execute", capture)
    try:
        yield capture
    finally:
        event.remove(Engine, "before_cursor_execute", capture)


def body(step: Callable[..., Any]) -> Callable[..., Any]:
    """The step function without its lineage events (whose own look-ups are not the step's)."""
    return getattr(step, "__wrapped__", step)


DAILY = {
    "prepare": daily.prepare,
    "ingest": daily.ingest,
    "assess_feeds": daily.assess_feeds,
    "build": daily.build,
    "publish": daily.publish,
}


JOBS = ("import_consents", "retention", "purge")
CONSENT_HEADER = (
    "resident_id,consent_id,scope_partners,scope_sectors,purpose,granted_on,expires_on,withdrawn_on,method,"
    "evidence_ref,proxy_name,proxy_relation\n"
)


def run_day(capture: Capture, day: str) -> None:
    ctx = RunContext.from_environment()
    run_id = daily.open_run(ctx, day)
    for name, step in DAILY.items():
        capture.run(name, body(step), ctx, run_id)
    daily.close_run(ctx, run_id)


def declared(step: str) -> tuple[frozenset[str], frozenset[str]]:
    found = declared_for(step)
    return frozenset(found.reads), frozenset(found.writes)


POWER = "\n  - id: midori-denki\n    name: みどり電力\n    sector: utility\n    encoding: utf-8\n" + (
    "    due_by: '06:00'\n    agreement: {ref: E, valid_from: 2025-04-01, valid_to: 2028-03-31}\n"
)
READINGS = (
    "partner_customer_id,name_kana,name_kanji,birth_date,address,phone,utility,meter_id,record_type,"
    "period_start,period_end,consumption,unit\n"
    "E1,ﾔﾏﾀﾞ ﾊﾅｺ,山田花子,19400302,本町1-2-3,,electricity,M1,reading,{day}T06:00:00,{day}T06:30:00,0.4,kWh\n"
    "E2,ｽｽﾞｷ ｲﾁﾛｳ,,,栄町4-5-6,,electricity,M2,reading,{day}T07:00:00,{day}T07:30:00,0.3,kWh\n"
)


def deliver_readings(home: Path, day: str, end: str) -> None:
    """A day of meter readings from a power company: one customer linked, one for review."""
    folder = home / "inbox" / "midori-denki" / f"{end.replace('-', '')}-01"
    folder.mkdir(parents=True)
    body = READINGS.format(day=day).encode()
    (folder / "readings.csv").write_bytes(body)
    manifest = {
        "spec_version": "1",
        "partner_id": "midori-denki",
        "sector": "utility",
        "delivery_id": folder.name,
        "period_start": f"{day}T00:00:00+09:00",
        "period_end": f"{end}T00:00:00+09:00",
        "files": [{"name": "readings.csv", "sha256": hashlib.sha256(body).hexdigest(), "rows": 2}],
        "created_at": f"{end}T04:00:00+09:00",
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_every_step_touches_exactly_the_tables_it_declares(tiny: Path):
    with (tiny / "partners.yaml").open("a", encoding="utf-8") as registry:
        registry.write(POWER)
    deliver_readings(tiny, "2026-11-01", "2026-11-02")
    with capturing() as capture:
        run_day(capture, "2026-11-02")  # one customer of each partner linked, one held for review
        for review in (1, 2):
            steward_commands.link_decide(review, accept=True)
        consent_commands.consent_withdraw("C-1", "2026-11-02", revoke=False)
        run_day(capture, "2026-11-03")  # held rows released; the withdrawn resident purged in prepare
        (tiny / "consents" / "consents_20261104.csv").write_text(  # a withdrawal arrives as a file
            CONSENT_HEADER + "0000000002,C-2,*,*,watch_over,2026-01-01,2027-12-31,2026-11-03,paper,P-2,,\n",
            encoding="utf-8",
        )
        capture.run("import_consents", jobs.import_consents, "2026-11-04")
        capture.run("retention", jobs.expire, "2030-01-01", 1)
        capture.run("purge", jobs.purge_ended, "2026-11-04")
    problems = {step: drift(capture.touched(step), declared(step)) for step in [*DAILY, *JOBS]}
    failing = {step: found for step, found in problems.items() if found}
    assert not failing, "\n".join(f"{step}: {found}" for step, found in failing.items())


def drift(
    touched: tuple[frozenset[str], frozenset[str]], declared: tuple[frozenset[str], frozenset[str]]
) -> dict[str, list[str]]:
    """What a step touched and did not declare, wrote but declared as read, or declared and never touched.

    A table declared as written that was only read in these days counts as touched: its writes depend on
    the data (retention deletes only what is old, a key is set up once).
    """
    (read, written), (reads, writes) = touched, declared
    found = {
        "touched, not declared": (read | written) - reads - writes,
        "written, declared only as read": written & reads,
        "declared, never touched": (reads | writes) - read - written,
    }
    return {what: sorted(tables) for what, tables in found.items() if tables}


def test_statements_name_the_tables_they_read_and_write():
    assert tables_of('INSERT INTO "signals" (a) SELECT a FROM held_rows JOIN link_reviews ON 1') == (
        {"held_rows", "link_reviews"},
        {"signals"},
    )
    assert tables_of("UPDATE watchlist_entries SET x=1 WHERE y IN (SELECT y FROM feed_health)") == (
        {"feed_health"},
        {"watchlist_entries"},
    )
    assert tables_of("DELETE FROM reading_days WHERE day < ?") == (set(), {"reading_days"})
    assert tables_of("SELECT count(*) FROM signals, x") == ({"signals"}, set())


def test_a_declaration_names_only_warehouse_tables():
    from lineage.steps import Declared

    with pytest.raises(ValueError, match="not a warehouse table: signal"):
        Declared(reads=("signal",))
    both = Declared(reads=("signals", "outcomes"), writes=("feed_health",)) | Declared(writes=("signals",))
    assert (both.reads, both.writes) == (("outcomes",), ("feed_health", "signals"))
