"""Repository of the limits admins set on nodes of the hierarchy, and of threshold alerts.

Node ids are stable and carry no names that could change: ``org``,
``department:<id>``, ``use_case:<department id>:<tag>``, ``user:<id>``, ``key:<key id>``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from billing.db.schema import quota_alerts, quota_limits
from billing.db.transactions import Database, reading, writing
from billing.periods import PeriodKind
from billing.quotas import FailMode, FailPolicy, Level, NodeLimits, ThresholdCrossed

ORG_NODE = "org"

# What the functions below produce: ids of a few hundred bytes at most, ASCII digits for ids
# (``\d`` would also take other scripts' digits), a printable tag for use cases.
_NODE_ID = re.compile(
    r"org|department:[0-9]{1,18}|use_case:[0-9]{1,18}:[^\x00-\x1f\x7f]{1,128}"
    r"|user:[0-9]{1,18}|key:[A-Za-z0-9_-]{1,32}"
)


def is_node_id(text: str) -> bool:
    """True when ``text`` has the shape of a node id (it may still name no stored node)."""
    return len(text) <= 200 and _NODE_ID.fullmatch(text) is not None


def department_node(department_id: int) -> str:
    return f"department:{department_id}"


def use_case_node(department_id: int, use_case: str) -> str:
    return f"use_case:{department_id}:{use_case}"


def user_node(user_id: int) -> str:
    return f"user:{user_id}"


def key_node(key_id: str) -> str:
    return f"key:{key_id}"


@dataclass(frozen=True, slots=True)
class StoredLimits:
    """Limits of one node as stored, with a human label for listings and messages."""

    limits: NodeLimits
    label: str


def _now() -> datetime:
    return datetime.now(UTC)


def _fail_policy(budget: str, rate: str) -> FailPolicy:
    budget_mode, rate_mode = FailMode(budget), FailMode(rate)
    return FailPolicy(
        budget_eur=budget_mode,
        budget_tokens=budget_mode,
        rpm=rate_mode,
        tpm=rate_mode,
        concurrency=rate_mode,
    )


def _from_row(row: Any) -> StoredLimits:
    thresholds = tuple(row.thresholds_pct) if row.thresholds_pct else (50, 80, 100)
    limits = NodeLimits(
        node_id=row.node_id,
        level=Level(row.level),
        budget_micro_eur=row.budget_micro_eur,
        budget_tokens=row.budget_tokens,
        period=PeriodKind(row.period) if row.period else None,
        rolling_window_s=row.rolling_window_s,
        thresholds_pct=thresholds,
        rpm=row.rpm,
        tpm=row.tpm,
        max_concurrent=row.max_concurrent,
        fail_policy=_fail_policy(row.budget_fail_mode, row.rate_fail_mode),
    )
    return StoredLimits(limits, row.label)


async def save_limits(db: Database, limits: NodeLimits, *, label: str) -> None:
    """Create or replace the limits of one node (applies to new requests at the next refresh)."""
    values = {
        "level": limits.level.value,
        "label": label,
        "budget_micro_eur": limits.budget_micro_eur,
        "budget_tokens": limits.budget_tokens,
        "period": limits.period.value if limits.period else None,
        "rolling_window_s": limits.rolling_window_s,
        "thresholds_pct": list(limits.thresholds_pct),
        "rpm": limits.rpm,
        "tpm": limits.tpm,
        "max_concurrent": limits.max_concurrent,
        "budget_fail_mode": limits.fail_policy.budget_eur.value,
        "rate_fail_mode": limits.fail_policy.rpm.value,
        "updated_at": _now(),
    }
    async with writing(db) as connection:
        result = await connection.execute(
            update(quota_limits).where(quota_limits.c.node_id == limits.node_id).values(**values)
        )
        if not result.rowcount:
            await connection.execute(insert(quota_limits).values(node_id=limits.node_id, **values))


async def delete_limits(db: Database, node_id: str) -> bool:
    async with writing(db) as connection:
        result = await connection.execute(
            delete(quota_limits).where(quota_limits.c.node_id == node_id)
        )
    return bool(result.rowcount)


async def get_limits(db: Database, node_id: str) -> StoredLimits | None:
    """The limits stored on one node, or None."""
    query = select(quota_limits).where(quota_limits.c.node_id == node_id)
    async with reading(db) as connection:
        row = (await connection.execute(query)).first()
    return None if row is None else _from_row(row)


async def all_limits(db: Database) -> dict[str, StoredLimits]:
    """Every configured node, by node id."""
    async with reading(db) as connection:
        rows = (await connection.execute(select(quota_limits))).all()
    return {row.node_id: _from_row(row) for row in rows}


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    node_id: str
    level: str
    label: str
    threshold_pct: int
    period_key: str
    unit: str
    spent: int
    budget: int
    created_at: datetime
    delivered_at: datetime | None
    delivery_attempts: int


def _alert(row: Any) -> Alert:
    values = dict(row._mapping)
    values.pop("last_error", None)
    for name in ("created_at", "delivered_at"):
        if values[name] is not None and values[name].tzinfo is None:
            values[name] = values[name].replace(tzinfo=UTC)
    return Alert(**values)


async def store_alerts(
    db: Database, events: Sequence[ThresholdCrossed], labels: dict[str, str]
) -> None:
    """Record threshold crossings; a crossing already stored is ignored (exactly once)."""
    if not events:
        return
    rows = [
        {
            "node_id": e.node_id,
            "level": e.level.value,
            "label": labels.get(e.node_id, e.node_id),
            "threshold_pct": e.threshold_pct,
            "period_key": e.period_key,
            "unit": e.unit.value,
            "spent": e.spent,
            "budget": e.budget,
            "created_at": _now(),
            "delivery_attempts": 0,
        }
        for e in events
    ]
    from sqlalchemy.dialects import postgresql, sqlite  # only the dialect in use is loaded

    module = postgresql if db.dialect.name == "postgresql" else sqlite
    statement = module.insert(quota_alerts).on_conflict_do_nothing(
        index_elements=["node_id", "threshold_pct", "period_key", "unit"]
    )
    async with writing(db) as connection:
        await connection.execute(statement, rows)


async def list_alerts(db: Database, *, limit: int = 100) -> list[Alert]:
    query = select(quota_alerts).order_by(quota_alerts.c.id.desc()).limit(limit)
    async with reading(db) as connection:
        return [_alert(row) for row in (await connection.execute(query)).all()]


async def undelivered_alerts(db: Database, *, max_attempts: int) -> list[Alert]:
    query = (
        select(quota_alerts)
        .where(quota_alerts.c.delivered_at.is_(None))
        .where(quota_alerts.c.delivery_attempts < max_attempts)
        .order_by(quota_alerts.c.id)
    )
    async with reading(db) as connection:
        return [_alert(row) for row in (await connection.execute(query)).all()]


async def mark_delivery(db: Database, alert_id: int, *, error: str | None) -> None:
    """Note one delivery attempt: delivered when ``error`` is None."""
    values: dict[str, Any] = {"delivery_attempts": quota_alerts.c.delivery_attempts + 1}
    if error is None:
        values["delivered_at"] = _now()
    else:
        values["last_error"] = error[:300]
    async with writing(db) as connection:
        await connection.execute(
            update(quota_alerts).where(quota_alerts.c.id == alert_id).values(**values)
        )
