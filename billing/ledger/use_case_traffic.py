"""The ledger's traffic per use case: volumes, errors, refusals, cost, what was seen.

Shared by the live inventory and the monitoring of deployed AI, so that both count a refusal
or an incident the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from billing.db.schema import ledger

# Refusals by a rule of the hospital (data sovereignty, the register), not by a limit or a bug.
POLICY_REFUSALS = ("data_sovereignty_violation", "use_case_refused")
NO_USE_CASE = "(none)"


@dataclass(slots=True)
class Traffic:
    """What one use case did over a period."""

    requests: int = 0
    errors: int = 0  # incidents: the gateway or a model server failed (5xx)
    refusals: int = 0  # refused by a policy or the register
    flagged: int = 0  # allowed but flagged (pilot, unapproved model)
    tokens: int = 0
    cost_micro_eur: int = 0
    latency_ms_sum: float = 0.0
    latency_ms_max: float = 0.0
    models: set[str] = field(default_factory=set)
    deployments: set[str] = field(default_factory=set)
    data_classes: set[str] = field(default_factory=set)

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def refusal_rate(self) -> float:
        return self.refusals / self.requests if self.requests else 0.0

    @property
    def mean_latency_ms(self) -> float:
        return self.latency_ms_sum / self.requests if self.requests else 0.0


async def traffic_by_use_case(
    engine: AsyncEngine, start: datetime, end: datetime
) -> dict[str, Traffic]:
    """Every use case's traffic in ``[start, end)``; requests without one under ``(none)``."""
    columns = (ledger.c.use_case, ledger.c.model, ledger.c.deployment, ledger.c.data_class)
    query = (
        select(
            *columns,
            func.count().label("requests"),
            func.sum(case((ledger.c.status_code >= 500, 1), else_=0)).label("errors"),
            func.sum(case((ledger.c.error_class.in_(POLICY_REFUSALS), 1), else_=0)).label(
                "refusals"
            ),
            func.sum(case((ledger.c.use_case_flag.is_not(None), 1), else_=0)).label("flagged"),
            func.sum(ledger.c.prompt_tokens + ledger.c.completion_tokens).label("tokens"),
            func.sum(func.coalesce(ledger.c.cost_micro_eur, 0)).label("cost"),
            func.sum(ledger.c.latency_ms).label("latency_sum"),
            func.max(ledger.c.latency_ms).label("latency_max"),
        )
        .where(and_(ledger.c.started_at >= start, ledger.c.started_at < end))
        .group_by(*columns)
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    found: dict[str, Traffic] = {}
    for row in rows:
        traffic = found.setdefault(row.use_case or NO_USE_CASE, Traffic())
        traffic.requests += int(row.requests)
        traffic.errors += int(row.errors or 0)
        traffic.refusals += int(row.refusals or 0)
        traffic.flagged += int(row.flagged or 0)
        traffic.tokens += int(row.tokens or 0)
        traffic.cost_micro_eur += int(row.cost or 0)
        traffic.latency_ms_sum += float(row.latency_sum or 0)
        traffic.latency_ms_max = max(traffic.latency_ms_max, float(row.latency_max or 0))
        if row.deployment:  # a model that answered (or was tried), not merely named
            traffic.deployments.add(row.deployment)
            if row.model:
                traffic.models.add(row.model)
        if row.data_class:
            traffic.data_classes.add(row.data_class)
    return found
