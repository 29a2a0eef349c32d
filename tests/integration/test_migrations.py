"""Every warehouse migration applies, reverts and applies again, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from mimamori.settings import DEPLOYMENT_VARIABLES
from warehouse.db import alembic_config, engine_for
from warehouse.models import Base

pytestmark = pytest.mark.integration
CLI = str(Path(sys.executable).with_name("mimamori"))


def tables(url: str) -> set[str]:
    return set(inspect(engine_for(url)).get_table_names()) - {"alembic_version"}


def schema_diff(url: str) -> list[object]:
    with engine_for(url).connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


def test_upgrade_downgrade_to_base_and_upgrade_again(database_url: str):
    config = alembic_config(database_url)
    command.upgrade(config, "head")
    assert tables(database_url) == set(Base.metadata.tables)
    command.downgrade(config, "base")
    assert tables(database_url) == set()
    command.upgrade(config, "head")
    assert tables(database_url) == set(Base.metadata.tables)
    assert schema_diff(database_url) == []


def test_each_revision_reverts_and_reapplies_on_top_of_the_ones_before(database_url: str):
    config = alembic_config(database_url)
    revisions = [r.revision for r in reversed(list(ScriptDirectory.from_config(config).walk_revisions()))]
    for revision in revisions:
        command.upgrade(config, revision)
        after = tables(database_url)
        command.downgrade(config, "-1")
        command.upgrade(config, revision)
        assert tables(database_url) == after, revision
    assert schema_diff(database_url) == []


def test_the_production_migration_needs_the_warehouse_url_and_no_key(postgres_url: str, tmp_path: Path):
    """The one-shot migration container is handed the database URL only (see docker-compose.yaml)."""
    env = {k: v for k, v in os.environ.items() if k not in DEPLOYMENT_VARIABLES}
    env.update(MIMAMORI_ENV="production", MIMAMORI_DATABASE_URL=postgres_url, MIMAMORI_HOME=str(tmp_path))
    done = subprocess.run([CLI, "migrate"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert tables(postgres_url) == set(Base.metadata.tables)
    assert not (tmp_path / "keys").exists()
    env["MIMAMORI_DATABASE_URL"] = f"sqlite:///{tmp_path / 'w.db'}"
    refused = subprocess.run([CLI, "migrate"], env=env, capture_output=True, text=True, timeout=300)
    assert refused.returncode != 0 and "PostgreSQL" in refused.stderr
