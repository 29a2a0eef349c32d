"""amended records of provision: rows of a delivery a steward accepted later in link review

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 10:30:00.000000

A record of provision is never rewritten once written; rows released by a link-review accept are
recorded as an amendment that names the delivery whose record it amends.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "provision_amendments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("amends", sa.Integer(), nullable=False),
        sa.Column("held_pk", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.String(length=80), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("amended_on", sa.Date(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("residents", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("basis", sa.String(length=120), nullable=False),
        sa.Column("consent_ids", sa.Integer(), nullable=False),
        sa.Column("keep_until", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["amends"], ["deliveries.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("held_pk"),
    )
    with op.batch_alter_table("provision_amendments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_provision_amendments_amends"), ["amends"], unique=False)
        batch_op.create_index(batch_op.f("ix_provision_amendments_amended_on"), ["amended_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_provision_amendments_partner_id"), ["partner_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("provision_amendments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provision_amendments_partner_id"))
        batch_op.drop_index(batch_op.f("ix_provision_amendments_amended_on"))
        batch_op.drop_index(batch_op.f("ix_provision_amendments_amends"))
    op.drop_table("provision_amendments")
