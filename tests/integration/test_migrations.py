"""Every warehouse migration applies, reverts and applies again, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from warehouse.db import alembic_config, engine_for
from warehouse.models import Base

pytestmark = pytest.mark.integration


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
