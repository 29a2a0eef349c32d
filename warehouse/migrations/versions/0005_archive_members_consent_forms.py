"""archive members (who has rows in which sealed delivery) and imported consent forms

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 10:30:00.000000

Both tables start empty: deliveries archived from now on record their members; consent forms imported
before the upgrade are recognised by their consent rows as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "archive_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.String(length=80), nullable=False),
        sa.Column("delivery_id", sa.String(length=120), nullable=False),
        sa.Column("resident", sa.String(length=48), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partner_id", "delivery_id", "resident"),
    )
    op.create_index(op.f("ix_archive_members_resident"), "archive_members", ["resident"], unique=False)
    op.create_table(
        "consent_forms",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("imported_on", sa.Date(), nullable=False),
        sa.Column("sealed_name", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("sha256"),
    )


def downgrade() -> None:
    op.drop_table("consent_forms")
    op.drop_index(op.f("ix_archive_members_resident"), table_name="archive_members")
    op.drop_table("archive_members")
