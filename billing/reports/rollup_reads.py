"""The reports' aggregate queries answered from the rollups instead of the ledger.

A period made of whole months (and not grouped by day) is read from the monthly rollups (five
times fewer rows than the daily ones in the 5-million-record benchmark); any other period from
the daily rollups.

Each function returns rows shaped like its ledger-scan counterpart (same labels, same sums), so
the report code after it does not know which one answered. They are exact: every figure is a
sum of integer sums, and a rollup day is the same local day a ledger scan would bound with UTC
instants (callers check :func:`billing.ledger.rollups.rollups_cover` for the zone first).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Column, ColumnElement, case, distinct, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.base import ReadOnlyColumnCollection

from billing.db.schema import ledger_daily, ledger_monthly
from billing.pricing.costing import UNPRICED_VERSION
from billing.pricing.true_up import ON_PREMISE

Columns = ReadOnlyColumnCollection[str, Column[Any]]
daily = ledger_daily.c
monthly = ledger_monthly.c
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


@dataclass(frozen=True, slots=True)
class _Source:
    """The rollup table that answers a period, and the rows of that period in it."""

    table: Columns
    where: list[ColumnElement[bool]]
    by_month: bool


def _month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _source(first: date, last: date, *, needs_days: bool = False) -> _Source:
    whole_months = first.day == 1 and (last + timedelta(days=1)).day == 1
    if whole_months and not needs_days:
        where = [monthly.month >= _month_key(first), monthly.month <= _month_key(last)]
        return _Source(monthly, where, by_month=True)
    return _Source(daily, [daily.day >= first, daily.day <= last], by_month=False)


def _figures(daily: Columns, *, users: bool = True) -> list[ColumnElement[Any]]:
    """The figures of a group; without ``users``, ``active_users`` reads 0 (not counted)."""
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
        # Exact per bucket because every SQL group below is exactly one bucket. Counting
        # distinct users sorts every rollup row of the period: over half of the overview's
        # time at 5 M records, for a figure that page does not show, hence ``users``.
        (func.count(distinct(daily.user_id)) if users else literal(0)).label("active_users"),
    ]


def _by_deployment(daily: Columns, view: DeploymentView, index: int) -> ColumnElement[Any]:
    if not view:
        return literal(UNKNOWN)
    whens = {name: where[index] for name, where in view.items()}
    return case(whens, value=daily.deployment, else_=UNKNOWN)


def _split(daily: Columns, view: DeploymentView) -> ColumnElement[Any]:
    on_premise = [name for name, where in view.items() if where[1] == ON_PREMISE]
    external = [name for name, where in view.items() if where[1] != ON_PREMISE]
    return case(
        (daily.deployment.in_(on_premise), SPLIT_ON_PREMISE),
        (daily.deployment.in_(external), SPLIT_EXTERNAL),
        else_=SPLIT_OTHER,
    )


def _dimension(
    name: str, dialect: str, view: DeploymentView, source: _Source
) -> ColumnElement[Any]:
    """The SQL value of one report dimension, as the report shows it (so that one SQL group
    is one bucket): no value and an empty one both read ``(none)``."""
    daily = source.table
    if name in ("department", "user"):
        return daily[f"{name}_id"]  # mapped to names afterwards, one to one
    if name in ("use_case", "model", "deployment"):
        return func.coalesce(func.nullif(daily[name], ""), NONE_LABEL)
    if name in ("provider", "hosting_class"):
        return _by_deployment(daily, view, 0 if name == "provider" else 1)
    if name == "day":
        return daily.day
    if name == "month":
        if source.by_month:
            return daily.month
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
    active_users: bool = True,
) -> UsageRows:
    """The figures of the local days ``first..last`` per bucket of ``dims``, in total and per
    split: three aggregate queries over the rollup rows of those days (the total and the split
    from the monthly rollups whenever the period is whole months, even grouped by day).
    ``active_users=False`` skips counting users (every ``active_users`` reads 0) and reads
    everything from one query (see :func:`_one_pass`)."""
    dialect = connection.dialect.name

    def scope(source: _Source) -> list[ColumnElement[bool]]:
        if department_id is None:
            return source.where
        return [*source.where, source.table.department_id == department_id]

    if not active_users:
        source = _source(first, last, needs_days="day" in dims)
        return await _one_pass(connection, source, dims, scope(source), deployments)

    whole = _source(first, last)
    table, where = whole.table, scope(whole)
    total = (await connection.execute(select(*_figures(table)).where(*where))).one()
    split_key = _split(table, deployments).label("split")
    split_query = select(split_key, *_figures(table)).where(*where).group_by(split_key)
    split = list((await connection.execute(split_query)).all())
    buckets: list[Any] = [total] if total.requests else []
    if dims:
        source = _source(first, last, needs_days="day" in dims)
        keys = [_dimension(name, dialect, deployments, source).label(name) for name in dims]
        query = select(*keys, *_figures(source.table)).where(*scope(source)).group_by(*keys)
        buckets = list((await connection.execute(query)).all())
    return UsageRows(buckets, total, split)


_SUMS = ("requests", "failed", "unpriced", "prompt", "cached", "completion", "cost")


async def _one_pass(
    connection: AsyncConnection,
    source: _Source,
    dims: Sequence[str],
    where: list[ColumnElement[bool]],
    deployments: DeploymentView,
) -> UsageRows:
    """:func:`usage_rows` without active users, from one scan instead of three: the rows are
    grouped by bucket and split, then folded here into buckets, splits and the total (plain
    sums, so exact; distinct user counts would not add up, hence only without them)."""
    dialect = connection.dialect.name
    keys = [_dimension(name, dialect, deployments, source).label(name) for name in dims]
    split_key = _split(source.table, deployments).label("split")
    query = (
        select(*keys, split_key, *_figures(source.table, users=False))
        .where(*where)
        .group_by(*keys, split_key)
    )
    buckets: dict[tuple[Any, ...], dict[str, int]] = {}
    splits: dict[str, dict[str, int]] = {}
    total = dict.fromkeys(_SUMS, 0)
    for row in (await connection.execute(query)).all():
        key = tuple(getattr(row, name) for name in dims)
        bucket = buckets.setdefault(key, dict.fromkeys(_SUMS, 0))
        split = splits.setdefault(row.split, dict.fromkeys(_SUMS, 0))
        for name in _SUMS:
            value = int(getattr(row, name))
            bucket[name] += value
            split[name] += value
            total[name] += value
    total_row = SimpleNamespace(**total, active_users=0)
    bucket_rows: list[Any] = [
        SimpleNamespace(**dict(zip(dims, key, strict=True)), **sums, active_users=0)
        for key, sums in buckets.items()
    ]
    if not dims:
        bucket_rows = [total_row] if total["requests"] else []
    split_rows = [SimpleNamespace(split=k, **v, active_users=0) for k, v in splits.items()]
    return UsageRows(bucket_rows, total_row, split_rows)


async def charge_groups(connection: AsyncConnection, first: date, last: date) -> list[Any]:
    """The month's groups as :mod:`billing.reports.ledger_charges` reads them from the ledger:
    ``cost`` is None for a group whose every request had no cost, as SQL's ``SUM`` gives."""
    source = _source(first, last)
    daily = source.table
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
        .where(*source.where)
        .group_by(*keys)
    )
    return list((await connection.execute(query)).all())


async def total_cost(connection: AsyncConnection, first: date, last: date) -> int:
    """The ledger's cost of the local days ``first..last``, in micro-euros."""
    source = _source(first, last)
    query = select(func.coalesce(func.sum(source.table.cost_micro_eur), 0)).where(*source.where)
    return int((await connection.execute(query)).scalar_one())
