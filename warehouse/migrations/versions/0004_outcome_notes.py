"""outcome notes sealed in the vault and same-day corrections

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 10:30:00

`note_sealed` holds the visitor's free-text note sealed with the vault keys (it may carry health details);
`corrects` points at the outcome a same-day correction replaces (the replaced row stays as history).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outcomes") as batch:
        batch.add_column(sa.Column("note_sealed", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("corrects", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_outcomes_corrects", "outcomes", ["corrects"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("outcomes") as batch:
        batch.drop_constraint("fk_outcomes_corrects", type_="foreignkey")
        batch.drop_column("corrects")
        batch.drop_column("note_sealed")
