"""Database tables: the organisation tree (departments, users, API keys) and the ledger.

Schema changes go through Alembic migrations in ``billing/migrations``; this module is what the
migrations and the repositories agree on.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

UtcDateTime = DateTime(timezone=True)

departments = Table(
    "departments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False, default=""),
    Column("default_data_class", String(16), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("department_id", Integer, ForeignKey("departments.id"), nullable=False),
    Column("username", String(128), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False, default=""),
    Column("role", String(32), nullable=False, default="member"),
    Column("created_at", UtcDateTime, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("display_prefix", String(24), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("use_case", String(128), nullable=True),
    Column("name", String(200), nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    # Single sign-on (0006): a chat front-end's key may name its end user (see the README).
    Column("front_end", String(16), nullable=True),
    Column("front_end_secret", String(512), nullable=True),  # encrypted, never in clear
    Column("front_end_required", Boolean, nullable=False, default=False),
    Column("expires_at", UtcDateTime, nullable=True),  # personal keys minted by `hygie login`
    Column("personal", Boolean, nullable=False, default=False),
)

ledger = Table(
    "ledger",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=False),
    Column("endpoint", String(32), nullable=False),
    Column("key_id", String(32), nullable=True),
    Column("user_id", Integer, nullable=True),
    Column("department_id", Integer, nullable=True),
    Column("use_case", String(128), nullable=True),
    Column("model", String(200), nullable=True),
    Column("deployment", String(200), nullable=True),
    Column("replica", String(300), nullable=True),
    Column("status_code", Integer, nullable=False),
    Column("error_class", String(64), nullable=True),
    Column("prompt_tokens", Integer, nullable=False, default=0),
    Column("completion_tokens", Integer, nullable=False, default=0),
    Column("cached_tokens", Integer, nullable=False, default=0),
    Column("tokens_estimated", Boolean, nullable=False, default=False),
    Column("latency_ms", Float, nullable=False),
    Column("ttft_ms", Float, nullable=True),
    Column("streamed", Boolean, nullable=False, default=False),
    Column("client_disconnected", Boolean, nullable=False, default=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("fallback_model", String(200), nullable=True),
    Column("data_class", String(16), nullable=True),
    Column("policy_version", String(64), nullable=True),
    Column("policy_decision", String(32), nullable=True),
    Column("entity_counts", JSON, nullable=True),
    Column("cost_micro_eur", BigInteger, nullable=True),
    Column("price_version", String(64), nullable=True),
    Column("fx_rate", String(32), nullable=True),
    # Single sign-on (0006): the front-end key that acted for the user, and whether that user
    # was verified (a signed token) or only named by plain headers.
    Column("front_end_key_id", String(32), nullable=True),
    Column("end_user_verified", Boolean, nullable=True),
    Column("use_case_flag", String(64), nullable=True),
    Index("ix_ledger_started_at", "started_at"),
    Index("ix_ledger_department_started", "department_id", "started_at"),
    Index("ix_ledger_user_started", "user_id", "started_at"),
)


def _rollup_columns() -> list[Column[Any]]:
    """What both rollup levels hold besides their period: the group's dimensions and sums."""
    return [
        Column("department_id", Integer, nullable=True),
        Column("use_case", String(128), nullable=True),
        Column("user_id", Integer, nullable=True),
        Column("model", String(200), nullable=True),
        Column("deployment", String(200), nullable=True),
        Column("price_version", String(64), nullable=True),
        Column("fx_rate", String(32), nullable=True),
        Column("policy_decision", String(32), nullable=True),
        Column("status_code", Integer, nullable=False),
        Column("requests", BigInteger, nullable=False),
        Column("null_cost_requests", BigInteger, nullable=False),
        Column("estimated_requests", BigInteger, nullable=False),
        Column("streamed_requests", BigInteger, nullable=False),
        Column("disconnected_requests", BigInteger, nullable=False),
        Column("prompt_tokens", BigInteger, nullable=False),
        Column("cached_tokens", BigInteger, nullable=False),
        Column("billed_cached_tokens", BigInteger, nullable=False),
        Column("completion_tokens", BigInteger, nullable=False),
        Column("cost_micro_eur", BigInteger, nullable=False),
        Column("latency_ms_sum", Float, nullable=False),
        Column("ttft_ms_sum", Float, nullable=False),
        Column("ttft_count", BigInteger, nullable=False),
    ]


ledger_daily = Table(
    "ledger_daily",
    metadata,
    Column("day", Date, primary_key=True),
    Column("group_key", String(32), primary_key=True),
    *_rollup_columns(),
    Index("ix_ledger_daily_department_day", "department_id", "day"),
)
"""Daily rollups of the ledger (see :mod:`billing.ledger.rollups`), days of one time zone."""

ledger_monthly = Table(
    "ledger_monthly",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("group_key", String(32), primary_key=True),
    *_rollup_columns(),
    Index("ix_ledger_monthly_department_month", "department_id", "month"),
)
"""The same rollups by calendar month (``YYYY-MM``) of the same time zone."""

ledger_rollup_zone = Table(
    "ledger_rollup_zone",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("zone", String(64), nullable=False),
    Column("rebuilt_at", UtcDateTime, nullable=False),
)
"""At most one row (id 1): the time zone ``ledger_daily``'s days are cut in."""

quota_limits = Table(
    "quota_limits",
    metadata,
    Column("node_id", String(200), primary_key=True),
    Column("level", String(16), nullable=False),
    Column("label", String(200), nullable=False, default=""),
    Column("budget_micro_eur", BigInteger, nullable=True),
    Column("budget_tokens", BigInteger, nullable=True),
    Column("period", String(16), nullable=True),
    Column("rolling_window_s", Integer, nullable=True),
    Column("thresholds_pct", JSON, nullable=True),
    Column("rpm", Integer, nullable=True),
    Column("tpm", Integer, nullable=True),
    Column("max_concurrent", Integer, nullable=True),
    Column("budget_fail_mode", String(8), nullable=False, default="closed"),
    Column("rate_fail_mode", String(8), nullable=False, default="open"),
    Column("updated_at", UtcDateTime, nullable=False),
)

quota_alerts = Table(
    "quota_alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("node_id", String(200), nullable=False),
    Column("level", String(16), nullable=False),
    Column("label", String(200), nullable=False, default=""),
    Column("threshold_pct", Integer, nullable=False),
    Column("period_key", String(32), nullable=False),
    Column("unit", String(16), nullable=False),
    Column("spent", BigInteger, nullable=False),
    Column("budget", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("delivery_attempts", Integer, nullable=False, default=0),
    Column("last_error", String(300), nullable=True),
    UniqueConstraint("node_id", "threshold_pct", "period_key", "unit"),
)

closed_months = Table(
    "closed_months",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("closed_at", UtcDateTime, nullable=False),
    Column("closed_by", String(200), nullable=False, default=""),
    Column("snapshot", Text, nullable=False),
    Column("snapshot_sha256", String(64), nullable=False),
)
"""A closed month: its lines, true-ups and the figures and versions used, frozen as JSON."""

charge_corrections = Table(
    "charge_corrections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("booked_month", String(7), nullable=False),
    Column("corrects_month", String(7), nullable=False),
    Column("department", String(64), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("reason", String(500), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False, default=""),
    Index("ix_charge_corrections_booked_month", "booked_month"),
)
"""A correction of a closed month, booked as a dated line of a later open month."""

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("actor_role", String(32), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(300), nullable=False),
    Column("department", String(64), nullable=True),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Column("reason", String(500), nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_log_at", "at"),
)
"""The audit trail of admin changes, each entry hash-chained to the previous (billing/audit)."""

audit_chain_head = Table(
    "audit_chain_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)
"""One row (id 1): the last entry of the trail; updating it first serialises appends."""

audit_anchors = Table(
    "audit_anchors",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("anchored_at", UtcDateTime, nullable=False),
)
"""The trail's head when a month was closed, printed on that month's statements."""

# --- Governance: the register of AI uses, model approvals and the patient page -------------

use_cases = Table(
    "use_cases",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("purpose", Text, nullable=False, default=""),
    Column("department", String(64), nullable=True),
    Column("responsible", String(200), nullable=False, default=""),
    Column("population", String(500), nullable=False, default=""),
    Column("legal_basis", String(500), nullable=False, default=""),
    Column("data_classes", JSON, nullable=False),
    Column("dpia_status", String(16), nullable=False, default="not_started"),
    Column("dpia_date", String(10), nullable=True),
    Column("ai_act_category", String(16), nullable=False, default="unassessed"),
    Column("ai_act_reason", String(1000), nullable=False, default=""),
    Column("status", String(16), nullable=False),
    Column("status_dates", JSON, nullable=False),
    Column("allowed_models", JSON, nullable=True),
    Column("documentation_url", String(500), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
"""A declared use of AI: what it is for, who answers for it, where it stands in its life."""

model_approvals = Table(
    "model_approvals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", String(1000), nullable=False, default=""),
    Column("actor", String(200), nullable=False, default=""),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_model_approvals_model", "model", "id"),
)
"""Every step of a model's approval (requested, approved, rejected); the latest one holds."""

public_pages = Table(
    "public_pages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("html", Text, nullable=False),
    Column("published_at", UtcDateTime, nullable=False),
    Column("published_by", String(200), nullable=False, default=""),
)
"""Published versions of the patient page; the newest is served."""
