"""governance: the register of AI uses, model approvals, the patient page

Revision ID: 0007
Revises: 0006

Every free-text use case already found on an API key or in the ledger is registered, in status
``pilot``: its traffic goes on (pilots are allowed and flagged by default) while an
administrator completes the record; nobody declared it in production, so it is not claimed to
be. Keys and ledger rows are left untouched.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

IMPORTED_PURPOSE = "Registered automatically at upgrade from an existing key; to be completed."


def upgrade() -> None:
    use_cases = op.create_table(
        "use_cases",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=True),
        sa.Column("responsible", sa.String(length=200), nullable=False),
        sa.Column("population", sa.String(length=500), nullable=False),
        sa.Column("legal_basis", sa.String(length=500), nullable=False),
        sa.Column("data_classes", sa.JSON(), nullable=False),
        sa.Column("dpia_status", sa.String(length=16), nullable=False),
        sa.Column("dpia_date", sa.String(length=10), nullable=True),
        sa.Column("ai_act_category", sa.String(length=16), nullable=False),
        sa.Column("ai_act_reason", sa.String(length=1000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_dates", sa.JSON(), nullable=False),
        sa.Column("allowed_models", sa.JSON(), nullable=True),
        sa.Column("documentation_url", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_use_cases")),
    )
    op.create_table(
        "model_approvals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_approvals")),
    )
    op.create_index("ix_model_approvals_model", "model_approvals", ["model", "id"])
    op.create_table(
        "public_pages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_pages")),
    )
    op.add_column("ledger", sa.Column("use_case_flag", sa.String(length=64), nullable=True))
    _register_existing(use_cases)


def _register_existing(use_cases: sa.Table) -> None:
    bind = op.get_bind()
    names: set[str] = set()
    for table in ("api_keys", "ledger"):
        query = sa.text(f"SELECT DISTINCT use_case FROM {table} WHERE use_case IS NOT NULL")
        names.update(row[0] for row in bind.execute(query) if row[0])
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = [
        {
            "name": name,
            "purpose": IMPORTED_PURPOSE,
            "department": None,
            "responsible": "",
            "population": "",
            "legal_basis": "",
            "data_classes": [],
            "dpia_status": "not_started",
            "dpia_date": None,
            "ai_act_category": "unassessed",
            "ai_act_reason": "",
            "status": "pilot",
            "status_dates": {"pilot": now.date().isoformat()},
            "allowed_models": None,
            "documentation_url": None,
            "created_at": now,
            "updated_at": now,
        }
        for name in sorted(names)
    ]
    if rows:
        op.bulk_insert(use_cases, rows)


def downgrade() -> None:
    with op.batch_alter_table("ledger") as batch:
        batch.drop_column("use_case_flag")
    op.drop_table("public_pages")
    op.drop_index("ix_model_approvals_model", table_name="model_approvals")
    op.drop_table("model_approvals")
    op.drop_table("use_cases")
