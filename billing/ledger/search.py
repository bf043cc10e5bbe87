"""Finding ledger records by date, department, user, model, policy decision and status.

For the console's ledger explorer: metadata only (the ledger holds no prompt or answer), newest
first, bounded. Every filter is a plain equality or a range on indexed columns, and the days
are whole days of the organisation's time zone (see :class:`DateRange`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from billing.db.schema import departments, ledger, users
from billing.reports.date_range import DateRange

MAX_ROWS = 5000


@dataclass(frozen=True, slots=True)
class LedgerFilter:
    """What to look for; None means any. ``status`` is ``ok`` (2xx) or ``error``."""

    period: DateRange
    department: str | None = None
    username: str | None = None
    model: str | None = None
    decision: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One request as the explorer shows it: who, when, what model, the outcome, the cost."""

    request_id: str
    started_at: Any
    department: str | None
    username: str | None
    use_case: str | None
    model: str | None
    deployment: str | None
    status_code: int
    data_class: str | None
    policy_decision: str | None
    prompt_tokens: int
    completion_tokens: int
    cost_micro_eur: int | None


async def search_records(
    engine: AsyncEngine, wanted: LedgerFilter, *, limit: int = 200
) -> list[LedgerRow]:
    """The newest records matching ``wanted``, at most ``limit`` (capped at :data:`MAX_ROWS`)."""
    query = (
        select(
            ledger.c.request_id,
            ledger.c.started_at,
            departments.c.name.label("department"),
            users.c.username,
            ledger.c.use_case,
            ledger.c.model,
            ledger.c.deployment,
            ledger.c.status_code,
            ledger.c.data_class,
            ledger.c.policy_decision,
            ledger.c.prompt_tokens,
            ledger.c.completion_tokens,
            ledger.c.cost_micro_eur,
        )
        .select_from(
            ledger.outerjoin(departments, ledger.c.department_id == departments.c.id).outerjoin(
                users, ledger.c.user_id == users.c.id
            )
        )
        .where(ledger.c.started_at >= wanted.period.start, ledger.c.started_at < wanted.period.end)
        .order_by(ledger.c.started_at.desc(), ledger.c.request_id)
        .limit(max(1, min(limit, MAX_ROWS)))
    )
    if wanted.department is not None:
        query = query.where(departments.c.name == wanted.department)
    if wanted.username is not None:
        query = query.where(users.c.username == wanted.username)
    if wanted.model is not None:
        query = query.where(ledger.c.model == wanted.model)
    if wanted.decision is not None:
        query = query.where(ledger.c.policy_decision == wanted.decision)
    if wanted.status == "ok":
        query = query.where(ledger.c.status_code < 400)
    elif wanted.status == "error":
        query = query.where(ledger.c.status_code >= 400)
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [LedgerRow(**row._mapping) for row in rows]
