"""the register's household change on the watch population: when the household last changed and why

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 14:30:00.000000

Register feed contract 1.1 adds the optional columns household_since and household_reason; the
population keeps them for consented residents so rules can use the municipality's own register.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("watch_population") as batch:
        batch.add_column(sa.Column("household_since", sa.Date(), nullable=True))
        batch.add_column(sa.Column("household_reason", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("watch_population") as batch:
        batch.drop_column("household_reason")
        batch.drop_column("household_since")
