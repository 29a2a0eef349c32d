"""Every column that can hold a resident's pseudonym is marked in the models, so rotation and purge find it.

The rule: a column is pseudonym-looking when it is named `resident`, `candidate` or ends in `_resident`
or `_pseudonym`, or when its type is the models' pseudonym type, String(48). Every such column must
carry `info={"pseudonym": True}` (through `warehouse.models.pseudonym_column`), and every marked column
must be such a String(48). Rotation walks the marked columns, so a new pseudonym column added without
the marker fails here, and one added with it is re-keyed without touching the rotation code.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Column, MetaData, String, Table

from identity.rotation import rekeyed_columns
from warehouse.models import Base, IdentityVault, pseudonym_columns

pytestmark = pytest.mark.unit

NAMES = frozenset({"resident", "candidate"})
SUFFIXES = ("_resident", "_pseudonym")


def looks_like_pseudonym(column: Column[object]) -> bool:
    """True for a column whose name or type says it may hold a pseudonym."""
    named = column.name in NAMES or column.name.endswith(SUFFIXES)
    typed = isinstance(column.type, String) and column.type.length == 48
    return named or typed


def unmarked(metadata: MetaData) -> list[str]:
    """Pseudonym-looking columns without the marker, and marked columns that are not String(48)."""
    wrong = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            marked = bool(column.info.get("pseudonym"))
            typed = isinstance(column.type, String) and column.type.length == 48
            if looks_like_pseudonym(column) != marked or (marked and not typed):
                wrong.append(f"{table.name}.{column.name}")
    return wrong


def test_every_pseudonym_looking_column_of_the_models_is_marked():
    assert unmarked(Base.metadata) == []


def test_the_rule_catches_a_new_unmarked_column():
    metadata = MetaData()
    Table("visits", metadata, Column("resident", String(48)), Column("note", String(200)))
    Table("notes", metadata, Column("author_pseudonym", String(60)))
    Table("hidden", metadata, Column("who", String(48)))
    assert unmarked(metadata) == ["hidden.who", "notes.author_pseudonym", "visits.resident"]


def test_the_marked_columns_are_the_ones_known_to_hold_pseudonyms():
    found = {f"{c.table.name}.{c.name}" for c in pseudonym_columns(Base.metadata)}
    assert {
        "signals.resident",
        "reading_days.resident",
        "watch_population.resident",
        "consent_records.resident",
        "consent_tombstones.resident",
        "identity_vault.resident",
        "link_memory.resident",
        "link_reviews.candidate",
        "watchlist_entries.resident",
        "outcomes.resident",
    } <= found


def test_rotation_rekeys_every_marked_column_but_the_vault_which_it_reseals():
    marked = set(pseudonym_columns(Base.metadata))
    assert set(rekeyed_columns()) == marked - {IdentityVault.__table__.c.resident}
