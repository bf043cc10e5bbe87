"""Drift alerts, stored with the budget alerts (same table, same webhook, same listing).

A drift is stored once per use case, metric and week. Its row reads: level ``drift``,
``unit`` the metric, ``spent`` and ``budget`` this week's and last week's rate in basis points
(1/100 of a percent), ``threshold_pct`` the configured ratio in percent (200: doubled).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from billing.db.schema import quota_alerts
from billing.monitoring.use_case_health import Drift

DRIFT_LEVEL = "drift"


def _basis_points(rate: float) -> int:
    return round(rate * 10_000)


async def store_drifts(engine: AsyncEngine, found: Sequence[Drift], *, ratio: float) -> int:
    """Store the drifts not stored yet; returns how many rows were new."""
    if not found:
        return 0
    rows = [
        {
            "node_id": f"drift:{d.use_case}"[:200],  # not a quota node: organisation-wide
            "level": DRIFT_LEVEL,
            "label": d.use_case[:200],
            "threshold_pct": round(ratio * 100),
            "period_key": d.week,
            "unit": d.metric,
            "spent": _basis_points(d.current),
            "budget": _basis_points(d.previous),
            "created_at": datetime.now(UTC),
            "delivery_attempts": 0,
        }
        for d in found
    ]
    from sqlalchemy.dialects import postgresql, sqlite  # only the dialect in use is loaded

    module = postgresql if engine.dialect.name == "postgresql" else sqlite
    statement = module.insert(quota_alerts).on_conflict_do_nothing(
        index_elements=["node_id", "threshold_pct", "period_key", "unit"]
    )
    new = 0
    async with engine.begin() as connection:
        for row in rows:  # one by one: rowcount tells which were new
            new += (await connection.execute(statement, row)).rowcount or 0
    return new
