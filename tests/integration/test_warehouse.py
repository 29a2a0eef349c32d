from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from warehouse import audit, load
from warehouse.db import alembic_config, engine_for, has_schema, migrate, session_scope
from warehouse.models import Base, Delivery, IdentityVault, Signal

pytestmark = pytest.mark.integration
TABLES = {
    "pipeline_runs",
    "deliveries",
    "delivery_counts",
    "signals",
    "watch_population",
    "consent_records",
    "identity_vault",
    "feed_health",
    "watchlist_entries",
    "watchlist_reasons",
    "outcomes",
    "lineage_links",
    "audit_log",
    "validation_results",
    "link_memory",
    "link_reviews",
    "held_rows",
    "key_state",
    "consent_tombstones",
    "provision_records",
    "provision_amendments",
}


def test_migration_creates_the_schema_and_matches_the_models(database_url: str):
    migrate(database_url)
    migrate(database_url)  # idempotent
    engine = engine_for(database_url)
    assert set(inspect(engine).get_table_names()) >= TABLES
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_has_schema_is_true_only_after_the_migration_and_creates_nothing(database_url: str, tmp_path):
    missing = f"sqlite:///{tmp_path / 'nowhere.db'}"
    assert not has_schema(missing) and not (tmp_path / "nowhere.db").exists()
    assert not has_schema(database_url)
    migrate(database_url)
    assert has_schema(database_url)


def test_downgrade_removes_everything(database_url: str):
    migrate(database_url)
    command.downgrade(alembic_config(database_url), "base")
    assert not TABLES & set(inspect(engine_for(database_url)).get_table_names())


def test_vault_payload_is_ciphertext_only(database_url: str):
    migrate(database_url)
    with session_scope(database_url) as session:
        session.add(
            IdentityVault(
                resident="k1:" + "a" * 32,
                key_id="v1",
                ciphertext=b"\x00\x01opaque",
                payload_digest="0" * 64,
                district_code="D01",
                updated_at=dt.datetime(2026, 11, 20),
            )
        )
    columns = {c["name"] for c in inspect(engine_for(database_url)).get_columns("identity_vault")}
    assert columns == {"resident", "key_id", "ciphertext", "payload_digest", "district_code", "updated_at"}


def append_three(url: str) -> None:
    with session_scope(url) as session:
        for n in range(3):
            audit.append(session, "steward", "consent_change", f"C-{n}", version=1)


def test_audit_chain_verifies_and_catches_an_edit(database_url: str):
    migrate(database_url)
    append_three(database_url)
    with session_scope(database_url) as session:
        assert audit.verify(session).ok and audit.verify(session).records == 3
        session.execute(text("UPDATE audit_log SET subject = 'C-x' WHERE seq = 2"))
    with session_scope(database_url) as session:
        result = audit.verify(session)
    assert (result.ok, result.broken_at) == (False, 2)


def test_audit_appends_in_one_transaction_chain_even_around_a_rolled_back_savepoint(database_url: str):
    migrate(database_url)
    append_three(database_url)
    with session_scope(database_url) as session:
        for n in range(3, 6):
            audit.append(session, "steward", "consent_change", f"C-{n}", version=1)
        savepoint = session.begin_nested()
        audit.append(session, "steward", "consent_change", "C-gone", version=1)
        savepoint.rollback()
        audit.append(session, "steward", "consent_change", "C-6", version=1)
    with session_scope(database_url) as session:
        result = audit.verify(session)
        subjects = session.execute(text("SELECT subject FROM audit_log ORDER BY seq")).scalars().all()
    assert result.ok and result.records == 7
    assert subjects == [f"C-{n}" for n in range(7)]


def test_audit_chain_catches_a_deletion_in_the_middle(database_url: str):
    migrate(database_url)
    append_three(database_url)
    with session_scope(database_url) as session:
        session.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    with session_scope(database_url) as session:
        result = audit.verify(session)
    assert (result.ok, result.broken_at) == (False, 2)


def test_signals_load_in_batches_and_read_back_as_they_were(database_url: str, monkeypatch):
    migrate(database_url)
    monkeypatch.setattr(load, "BATCH_ROWS", 2)
    start = dt.datetime(2026, 11, 20, 0, 30, 0, 250)
    frame = pd.DataFrame(
        {
            "resident": ["k1:" + "a" * 32, "k1:" + "b" * 32, "k1:" + "c" * 32],
            "partner_id": "p",
            "sector": ["utility", "utility", "delivery"],
            "kind": ["reading", "reading", "event"],
            "event_type": ["electricity", "water", "no_answer"],
            "event_start": [start, start + dt.timedelta(minutes=30), start],
            "event_end": [start + dt.timedelta(minutes=30), start + dt.timedelta(hours=1), pd.NaT],
            "value": [0.25, 0.0, np.nan],
            "unit": ["kWh", "m3", None],
            "consent_id": ["C1", "C2", "C3"],
        }
    )
    with session_scope(database_url) as session:
        session.add(
            Delivery(partner_id="p", delivery_id="d1", received_at=dt.datetime(2026, 11, 21), status="loaded")
        )
        session.flush()
        pk = session.execute(select(Delivery.id)).scalar_one()
        assert load.load_signals(session, pk, frame) == 3
        assert load.load_signals(session, pk, frame) == 3  # a rerun replaces
    with session_scope(database_url) as session:
        stored = session.execute(select(Signal).order_by(Signal.resident)).scalars().all()
        window = select(Signal.id).where(Signal.event_start >= start + dt.timedelta(minutes=1))
        later = session.execute(window).scalars().all()
    assert [(s.event_start, s.event_end, s.value, s.unit) for s in stored] == [
        (start, start + dt.timedelta(minutes=30), 0.25, "kWh"),
        (start + dt.timedelta(minutes=30), start + dt.timedelta(hours=1), 0.0, "m3"),
        (start, None, None, None),
    ]
    assert [s.consent_id for s in stored] == ["C1", "C2", "C3"]
    assert len(later) == 1  # stored times compare as times, not as odd strings
