"""daily and monthly ledger rollups and the ledger explorer's user index

Revision ID: 0009
Revises: 0008

The rollups of an empty ledger are complete in any zone: a new database starts with them kept
in Europe/Paris (the default zone). A database that already holds records gets them built at
the next gateway start, in the configured zone (``billing.ledger.rollups.ensure_rollups``), or
with ``hygie ledger rebuild-rollups``; until then, reports scan the ledger as before.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

DEFAULT_ZONE = "Europe/Paris"
_COUNTS = (
    "requests",
    "null_cost_requests",
    "estimated_requests",
    "streamed_requests",
    "disconnected_requests",
    "prompt_tokens",
    "cached_tokens",
    "billed_cached_tokens",
    "completion_tokens",
    "cost_micro_eur",
)


def _group_columns() -> list[sa.Column[Any]]:
    counts = [sa.Column(name, sa.BigInteger(), nullable=False) for name in _COUNTS]
    return [
        sa.Column("group_key", sa.String(length=32), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("use_case", sa.String(length=128), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("deployment", sa.String(length=200), nullable=True),
        sa.Column("price_version", sa.String(length=64), nullable=True),
        sa.Column("fx_rate", sa.String(length=32), nullable=True),
        sa.Column("policy_decision", sa.String(length=32), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=False),
        *counts,
        sa.Column("latency_ms_sum", sa.Float(), nullable=False),
        sa.Column("ttft_ms_sum", sa.Float(), nullable=False),
        sa.Column("ttft_count", sa.BigInteger(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "ledger_daily",
        sa.Column("day", sa.Date(), nullable=False),
        *_group_columns(),
        sa.PrimaryKeyConstraint("day", "group_key", name=op.f("pk_ledger_daily")),
    )
    op.create_index("ix_ledger_daily_department_day", "ledger_daily", ["department_id", "day"])
    op.create_table(
        "ledger_monthly",
        sa.Column("month", sa.String(length=7), nullable=False),
        *_group_columns(),
        sa.PrimaryKeyConstraint("month", "group_key", name=op.f("pk_ledger_monthly")),
    )
    op.create_index(
        "ix_ledger_monthly_department_month", "ledger_monthly", ["department_id", "month"]
    )
    zone = op.create_table(
        "ledger_rollup_zone",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("rebuilt_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_rollup_zone")),
    )
    op.create_index("ix_ledger_user_started", "ledger", ["user_id", "started_at"])
    empty = op.get_bind().execute(sa.text("SELECT 1 FROM ledger LIMIT 1")).first() is None
    if empty:
        op.bulk_insert(zone, [{"id": 1, "zone": DEFAULT_ZONE, "rebuilt_at": datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_index("ix_ledger_user_started", table_name="ledger")
    op.drop_table("ledger_rollup_zone")
    op.drop_index("ix_ledger_monthly_department_month", table_name="ledger_monthly")
    op.drop_table("ledger_monthly")
    op.drop_index("ix_ledger_daily_department_day", table_name="ledger_daily")
    op.drop_table("ledger_daily")
