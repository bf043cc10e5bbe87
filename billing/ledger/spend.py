"""What the ledger says each node of the hierarchy spent in a period (the source of truth).

Quota counters are rebuilt from these figures at start, when a period begins, and on demand;
``hygie quotas reconcile`` compares them with the live counters.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from billing.db.schema import ledger
from billing.limits.repo import (
    ORG_NODE,
    department_node,
    key_node,
    use_case_node,
    user_node,
)
from billing.periods import Period
from billing.quotas import Amount


async def spend_by_node(engine: AsyncEngine, period: Period) -> dict[str, Amount]:
    """Cost (micro-euros) and tokens per node for the requests that ended in ``period``.

    Requests are attributed to the period in which they finished, like quota settlements.
    """
    cost = func.coalesce(func.sum(ledger.c.cost_micro_eur), 0)
    tokens = func.coalesce(func.sum(ledger.c.prompt_tokens + ledger.c.completion_tokens), 0)
    query = (
        select(
            ledger.c.department_id,
            ledger.c.use_case,
            ledger.c.user_id,
            ledger.c.key_id,
            cost.label("cost"),
            tokens.label("tokens"),
        )
        .where(ledger.c.finished_at >= period.start, ledger.c.finished_at < period.end)
        .where(ledger.c.key_id.is_not(None))
        .group_by(ledger.c.department_id, ledger.c.use_case, ledger.c.user_id, ledger.c.key_id)
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        nodes = [
            ORG_NODE,
            department_node(row.department_id),
            user_node(row.user_id),
            key_node(row.key_id),
        ]
        if row.use_case:
            nodes.append(use_case_node(row.department_id, row.use_case))
        for node in nodes:
            totals[node][0] += int(row.cost)
            totals[node][1] += int(row.tokens)
    return {node: Amount(micro_eur=c, tokens=t) for node, (c, t) in totals.items()}
