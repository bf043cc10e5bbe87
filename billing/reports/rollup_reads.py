"""The reports' aggregate queries answered from the daily rollups instead of the ledger.

Each function returns rows shaped like its ledger-scan counterpart (same labels, same sums), so
the report code after it does not know which one answered. They are exact: every figure is a
sum of integer sums, and a rollup day is the same local day a ledger scan would bound with UTC
instants (callers check :func:`billing.ledger.rollups.rollups_cover` for the zone first).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from billing.db.schema import ledger_daily
from billing.pricing.costing import UNPRICED_VERSION

daily = ledger_daily.c


async def usage_rows(
    connection: AsyncConnection,
    first: date,
    last: date,
    dims: Sequence[tuple[str, ColumnElement[Any]]],
    *,
    by_day: bool,
    department_id: int | None,
) -> list[Any]:
    """Usage sums per user x deployment x ``dims`` (label, rollup column) [x day], over the
    local days ``first..last``; labelled as :func:`billing.reports.report` reads them."""
    keys: list[ColumnElement[Any]] = [daily.user_id, daily.deployment]
    keys += [column.label(label) for label, column in dims]
    if by_day:
        keys.append(daily.day.label("day"))
    query = (
        select(
            *keys,
            func.sum(daily.requests).label("requests"),
            func.sum(case((daily.status_code >= 400, daily.requests), else_=0)).label("failed"),
            func.sum(
                case(
                    (daily.price_version == UNPRICED_VERSION, daily.requests),
                    else_=daily.null_cost_requests,
                )
            ).label("unpriced"),
            func.sum(daily.prompt_tokens).label("prompt"),
            func.sum(daily.cached_tokens).label("cached"),
            func.sum(daily.completion_tokens).label("completion"),
            func.sum(daily.cost_micro_eur).label("cost"),
        )
        .where(daily.day >= first, daily.day <= last)
        .group_by(*keys)
    )
    if department_id is not None:
        query = query.where(daily.department_id == department_id)
    return list((await connection.execute(query)).all())


async def charge_groups(connection: AsyncConnection, first: date, last: date) -> list[Any]:
    """The month's groups as :mod:`billing.reports.ledger_charges` reads them from the ledger:
    ``cost`` is None for a group whose every request had no cost, as SQL's ``SUM`` gives."""
    keys = (
        daily.department_id,
        daily.use_case,
        daily.model,
        daily.deployment,
        daily.price_version,
        daily.fx_rate,
    )
    priced = func.sum(daily.requests - daily.null_cost_requests)
    query = (
        select(
            *keys,
            func.sum(daily.requests).label("requests"),
            func.sum(daily.prompt_tokens).label("prompt"),
            func.sum(daily.billed_cached_tokens).label("cached"),
            func.sum(daily.completion_tokens).label("completion"),
            case((priced > 0, func.sum(daily.cost_micro_eur)), else_=None).label("cost"),
        )
        .where(daily.day >= first, daily.day <= last)
        .group_by(*keys)
    )
    return list((await connection.execute(query)).all())


async def total_cost(connection: AsyncConnection, first: date, last: date) -> int:
    """The ledger's cost of the local days ``first..last``, in micro-euros."""
    query = select(func.coalesce(func.sum(daily.cost_micro_eur), 0)).where(
        daily.day >= first, daily.day <= last
    )
    return int((await connection.execute(query)).scalar_one())
