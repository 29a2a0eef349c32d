"""A partner's header is data too: only column names of the contract (or known free-text labels) are kept.

A header can carry an identifier (a name or a phone number typed into the wrong row) or a great many
junk names; what is stored about dropped columns is their known names, and for the rest only how many
there were and a keyed digest of them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import JSON, String, Text, select

from mimamori import daily
from mimamori.context import RunContext
from mimamori.settings import load_settings
from warehouse.db import session_scope
from warehouse.models import Base, DeliveryCount

pytestmark = pytest.mark.integration

SECRETS = ("田中太郎", "090-9999-8888")
JUNK = [f"列{n:05d}" for n in range(20_000)]


def widen(home: Path) -> Path:
    """Give the first co-op delivery a remarks column, two identifiers and 20,000 junk names as headers."""
    folder = home / "inbox" / "kanda-coop" / "20261102-01"
    lines = (folder / "events.csv").read_bytes().decode("cp932").splitlines()
    extra = ["備考", *SECRETS, *JUNK]
    body = (
        "\n".join(
            [lines[0] + "," + ",".join(extra)] + [line + "," * len(extra) for line in lines[1:]]
        ).encode("cp932")
        + b"\n"
    )
    (folder / "events.csv").write_bytes(body)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"][0]["sha256"] = hashlib.sha256(body).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_dropped_column_names_are_stored_only_when_known(tiny: Path):
    widen(tiny)
    summary = daily.run_day(RunContext.from_environment(), "2026-11-02")
    assert summary["ingest"]["rows_loaded"] >= 1
    url = load_settings().database_url
    with session_scope(url) as session:
        dropped = {
            c.reason: c.count
            for c in session.execute(
                select(DeliveryCount).where(DeliveryCount.stage == "column_dropped")
            ).scalars()
        }
        assert dropped.pop("備考") == 1
        assert len(dropped) == 1, dropped
        ((reason, count),) = dropped.items()
        assert count == len(SECRETS) + len(JUNK)
        assert reason.startswith("unknown_columns:") and len(reason) <= 80
        for table in Base.metadata.sorted_tables:
            texts = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]
            for row in session.execute(select(*texts)).tuples() if texts else []:
                flat = repr(tuple(row))
                assert not any(s in flat for s in (*SECRETS, "列00001")), f"{table.name} keeps a header"
