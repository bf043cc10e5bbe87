"""single sign-on: front-end keys, personal keys, end-user attribution in the ledger

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("front_end", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("front_end_secret", sa.String(length=512), nullable=True))
        batch_op.add_column(
            sa.Column("front_end_required", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("personal", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.add_column(sa.Column("front_end_key_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("end_user_verified", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.drop_column("end_user_verified")
        batch_op.drop_column("front_end_key_id")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("personal")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("front_end_required")
        batch_op.drop_column("front_end_secret")
        batch_op.drop_column("front_end")
