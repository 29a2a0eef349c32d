from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from warehouse import audit
from warehouse.db import alembic_config, engine_for, migrate, session_scope
from warehouse.models import Base, IdentityVault

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
}


def test_migration_creates_the_schema_and_matches_the_models(database_url: str):
    migrate(database_url)
    migrate(database_url)  # idempotent
    engine = engine_for(database_url)
    assert set(inspect(engine).get_table_names()) >= TABLES
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


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


def test_audit_chain_catches_a_deletion_in_the_middle(database_url: str):
    migrate(database_url)
    append_three(database_url)
    with session_scope(database_url) as session:
        session.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    with session_scope(database_url) as session:
        result = audit.verify(session)
    assert (result.ok, result.broken_at) == (False, 2)
