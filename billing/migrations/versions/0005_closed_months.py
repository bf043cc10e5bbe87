"""closed months and corrections

Revision ID: 0005
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "closed_months",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=200), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("snapshot_sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_closed_months")),
    )
    op.create_table(
        "charge_corrections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("booked_month", sa.String(length=7), nullable=False),
        sa.Column("corrects_month", sa.String(length=7), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charge_corrections")),
    )
    op.create_index("ix_charge_corrections_booked_month", "charge_corrections", ["booked_month"])


def downgrade() -> None:
    op.drop_index("ix_charge_corrections_booked_month", table_name="charge_corrections")
    op.drop_table("charge_corrections")
    op.drop_table("closed_months")
