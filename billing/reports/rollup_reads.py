"""The reports' aggregate queries answered from the daily rollups instead of the ledger.

Each function returns rows shaped like its ledger-scan counterpart (same labels, same sums), so
the report code after it does not know which one answered. They are exact: every figure is a
sum of integer sums, and a rollup day is the same local day a ledger scan would bound with UTC
instants (callers check :func:`billing.ledger.rollups.rollups_cover` for the zone first).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, case, distinct, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from billing.db.schema import ledger_daily
from billing.pricing.costing import UNPRICED_VERSION
from billing.pricing.true_up import ON_PREMISE

daily = ledger_daily.c
NONE_LABEL = "(none)"
UNKNOWN = "unknown"
SPLIT_ON_PREMISE = "on_premise"
SPLIT_EXTERNAL = "external"
SPLIT_OTHER = "other"
"""Requests never routed to a deployment, or routed to one no longer in the catalog."""
DeploymentView = Mapping[str, tuple[str, str]]
"""Deployment name -> (provider, hosting class), from :meth:`Costing.deployment_view`."""


@dataclass(frozen=True, slots=True)
class UsageRows:
    """A usage report's figures from the rollups: one row per bucket (labelled by dimension
    name), the total, and one row per on-premise/external/other split (labelled ``split``).
    Each row has ``requests, failed, unpriced, prompt, cached, completion, cost,
    active_users``."""

    buckets: list[Any]
    total: Any
    split: list[Any]


def _figures() -> list[ColumnElement[Any]]:
    return [
        func.coalesce(func.sum(daily.requests), 0).label("requests"),
        func.coalesce(func.sum(case((daily.status_code >= 400, daily.requests), else_=0)), 0).label(
            "failed"
        ),
        func.coalesce(
            func.sum(
                case(
                    (daily.price_version == UNPRICED_VERSION, daily.requests),
                    else_=daily.null_cost_requests,
                )
            ),
            0,
        ).label("unpriced"),
        func.coalesce(func.sum(daily.prompt_tokens), 0).label("prompt"),
        func.coalesce(func.sum(daily.cached_tokens), 0).label("cached"),
        func.coalesce(func.sum(daily.completion_tokens), 0).label("completion"),
        func.coalesce(func.sum(daily.cost_micro_eur), 0).label("cost"),
        # Exact per bucket because every SQL group below is exactly one bucket.
        func.count(distinct(daily.user_id)).label("active_users"),
    ]


def _by_deployment(view: DeploymentView, index: int) -> ColumnElement[Any]:
    if not view:
        return literal(UNKNOWN)
    whens = {name: where[index] for name, where in view.items()}
    return case(whens, value=daily.deployment, else_=UNKNOWN)


def _split(view: DeploymentView) -> ColumnElement[Any]:
    on_premise = [name for name, where in view.items() if where[1] == ON_PREMISE]
    external = [name for name, where in view.items() if where[1] != ON_PREMISE]
    return case(
        (daily.deployment.in_(on_premise), SPLIT_ON_PREMISE),
        (daily.deployment.in_(external), SPLIT_EXTERNAL),
        else_=SPLIT_OTHER,
    )


def _dimension(name: str, dialect: str, view: DeploymentView) -> ColumnElement[Any]:
    """The SQL value of one report dimension, as the report shows it (so that one SQL group
    is one bucket): no value and an empty one both read ``(none)``."""
    if name in ("department", "user"):
        return daily[f"{name}_id"]  # mapped to names afterwards, one to one
    if name in ("use_case", "model", "deployment"):
        return func.coalesce(func.nullif(daily[name], ""), NONE_LABEL)
    if name in ("provider", "hosting_class"):
        return _by_deployment(view, 0 if name == "provider" else 1)
    if name == "day":
        return daily.day
    if name == "month":
        if dialect == "postgresql":
            return func.to_char(daily.day, "YYYY-MM")
        return func.substr(daily.day, 1, 7)  # SQLite keeps dates as YYYY-MM-DD text
    raise ValueError(f"no report dimension {name!r}")


async def usage_rows(
    connection: AsyncConnection,
    first: date,
    last: date,
    dims: Sequence[str],
    *,
    department_id: int | None,
    deployments: DeploymentView,
) -> UsageRows:
    """The figures of the local days ``first..last`` per bucket of ``dims``, in total and per
    split: three aggregate queries over the rollup rows of those days."""
    dialect = connection.dialect.name
    keys = [_dimension(name, dialect, deployments).label(name) for name in dims]
    where = [daily.day >= first, daily.day <= last]
    if department_id is not None:
        where.append(daily.department_id == department_id)
    total = (await connection.execute(select(*_figures()).where(*where))).one()
    buckets: list[Any] = [total] if total.requests else []
    if keys:
        query = select(*keys, *_figures()).where(*where).group_by(*keys)
        buckets = list((await connection.execute(query)).all())
    split_key = _split(deployments).label("split")
    split_query = select(split_key, *_figures()).where(*where).group_by(split_key)
    split = list((await connection.execute(split_query)).all())
    return UsageRows(buckets, total, split)


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
