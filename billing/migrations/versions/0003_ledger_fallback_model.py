"""ledger fallback model and fx rate

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fallback_model", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("fx_rate", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.drop_column("fx_rate")
        batch_op.drop_column("fallback_model")
