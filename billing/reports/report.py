"""Usage and cost reports over the ledger: buckets, on-premise/external split, forecast.

A report covers whole days ``first..last`` (inclusive) in the organisation's time zone
(default: the current calendar month in Europe/Paris), stored and queried in UTC, and groups
requests by any of :class:`Dimension`. Each bucket gives requests, tokens, cost and active
users; totals, the on-premise/external split and a linear forecast come with it.

Guarantees:

* Costs are the exact sum of the ledger's integer micro-euros, shown as ``Decimal`` euros with
  six decimals: the buckets of a report add up to its total, and the total to the ledger.
* Unit costs (per request, per active user) are ratios, rounded half-even to the micro-euro;
  the forecast and budget percentages are rounded half-even to the cent. Nothing else rounds.
* Days and months are those of the organisation's time zone, not UTC: a request at 23:30 UTC
  on 28 March 2026 counts on 29 March in Paris, and the 23-hour and 25-hour DST days are whole.

Where figures come from: the daily rollups (:mod:`billing.ledger.rollups`), whose days are
already the organisation's, when they are kept in the report's zone; otherwise a scan of the
ledger, which groups rows by UTC hour (``strftime`` on SQLite, ``to_char`` on PostgreSQL, the
only dialect-specific SQL here) and maps each hour to its local day in Python. That is exact for
any zone whose offset is a whole number of hours (all of Europe); a zone with a fractional
offset is refused rather than silently misbucketed. Rows are grouped by user as well, so active
users are counted exactly per bucket without a ``COUNT(DISTINCT)`` per bucket.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from billing import directory
from billing.db.schema import ledger, users
from billing.ledger.rollups import rollups_cover
from billing.money import CENT, from_micros
from billing.pricing.costing import UNPRICED_VERSION
from billing.pricing.true_up import ON_PREMISE
from billing.reports import rollup_reads
from billing.reports.date_range import DateRange, ReportError
from billing.reports.rollup_reads import (
    NONE_LABEL,
    SPLIT_EXTERNAL,
    SPLIT_ON_PREMISE,
    SPLIT_OTHER,
    UNKNOWN,
    DeploymentView,
)

MICRO = Decimal("0.000001")
COST_COVERS = (
    "cost_eur is the per-request cost recorded in the ledger: external providers' token "
    "prices and on-premise transfer prices. It leaves out the month-end capacity true-up and "
    "dedicated GPUs, which only the chargeback statements and the FOCUS export carry. Rounded "
    "to the cent per department, it equals the statement's usage lines."
)
"""What a usage report's cost is, said in every report (JSON, and the CSV's last row)."""


class UnknownDepartment(LookupError):
    """The department named in a report does not exist."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no department {name!r}")


class Dimension(StrEnum):
    """What a report can group by."""

    DEPARTMENT = "department"
    USE_CASE = "use_case"
    USER = "user"
    MODEL = "model"
    PROVIDER = "provider"
    DEPLOYMENT = "deployment"
    HOSTING_CLASS = "hosting_class"
    DAY = "day"
    MONTH = "month"


_TIME = frozenset({Dimension.DAY, Dimension.MONTH})


def parse_group_by(text: str | None) -> tuple[Dimension, ...]:
    """``"department,model"`` as dimensions, in order; raises :class:`ReportError`."""
    names = [part.strip() for part in (text or "").split(",") if part.strip()]
    try:
        dims = tuple(Dimension(name) for name in names)
    except ValueError:
        allowed = ", ".join(d.value for d in Dimension)
        raise ReportError(f"group_by accepts {allowed}; got {text!r}") from None
    if len(set(dims)) != len(dims):
        raise ReportError("a dimension appears twice in group_by")
    return dims


@dataclass(frozen=True, slots=True)
class UsageFigures:
    """The figures of one bucket (or of the whole report)."""

    requests: int
    failed_requests: int
    unpriced_requests: int
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    cost_micro_eur: int
    active_users: int

    @property
    def cost_eur(self) -> Decimal:
        """Exact cost in euros (six decimals)."""
        return from_micros(self.cost_micro_eur)

    @property
    def cost_per_request(self) -> Decimal | None:
        return _ratio(self.cost_eur, self.requests)

    @property
    def cost_per_active_user(self) -> Decimal | None:
        return _ratio(self.cost_eur, self.active_users)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values; amounts as exact decimal strings."""
        return {
            "requests": self.requests,
            "failed_requests": self.failed_requests,
            "unpriced_requests": self.unpriced_requests,
            "prompt_tokens": self.prompt_tokens,
            "cached_tokens": self.cached_tokens,
            "completion_tokens": self.completion_tokens,
            "active_users": self.active_users,
            "cost_eur": _text(self.cost_eur),
            "cost_per_request_eur": _text(self.cost_per_request),
            "cost_per_active_user_eur": _text(self.cost_per_active_user),
        }


def _ratio(amount: Decimal, count: int) -> Decimal | None:
    return None if count == 0 else (amount / count).quantize(MICRO, rounding=ROUND_HALF_EVEN)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


@dataclass(frozen=True, slots=True)
class Bucket:
    """One group of a report: its key (dimension -> value) and its figures."""

    key: Mapping[str, str]
    figures: UsageFigures


@dataclass(frozen=True, slots=True)
class Forecast:
    """Linear forecast to the end of the period: cost so far / elapsed fraction of it."""

    cost_so_far_eur: Decimal
    elapsed_fraction: Decimal
    forecast_eur: Decimal | None
    budget_eur: Decimal | None
    budget_consumed_pct: Decimal | None
    forecast_budget_pct: Decimal | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "cost_so_far_eur": _text(self.cost_so_far_eur),
            "elapsed_fraction": _text(self.elapsed_fraction.quantize(MICRO)),
            "forecast_eur": _text(self.forecast_eur),
            "budget_eur": _text(self.budget_eur),
            "budget_consumed_pct": _text(self.budget_consumed_pct),
            "forecast_budget_pct": _text(self.forecast_budget_pct),
        }


def forecast(
    cost_eur: Decimal, period: DateRange, now: datetime, budget: Decimal | None = None
) -> Forecast:
    """The forecast of ``period`` seen at ``now`` (no forecast before the period starts)."""
    total = Decimal(int((period.end - period.start).total_seconds()))
    elapsed = Decimal(int((min(max(now, period.start), period.end) - period.start).total_seconds()))
    fraction = elapsed / total
    projected = None if fraction == 0 else _cents(cost_eur / fraction)
    usable_budget = budget if budget is not None and budget > 0 else None
    return Forecast(
        cost_so_far_eur=cost_eur,
        elapsed_fraction=fraction,
        forecast_eur=projected,
        budget_eur=budget,
        budget_consumed_pct=None if usable_budget is None else _pct(cost_eur, usable_budget),
        forecast_budget_pct=(
            None if usable_budget is None or projected is None else _pct(projected, usable_budget)
        ),
    )


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def _pct(part: Decimal, whole: Decimal) -> Decimal:
    return _cents(part * 100 / whole)


@dataclass(frozen=True, slots=True)
class UsageReport:
    """A usage report (see the module docstring)."""

    period: DateRange
    group_by: tuple[Dimension, ...]
    department: str | None
    buckets: tuple[Bucket, ...]
    total: UsageFigures
    split: Mapping[str, UsageFigures]
    forecast: Forecast
    generated_at: datetime

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready report."""
        return {
            "period": {
                "from": self.period.first.isoformat(),
                "to": self.period.last.isoformat(),
                "timezone": self.period.tz.key,
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
            },
            "group_by": [d.value for d in self.group_by],
            "department": self.department,
            "currency": "EUR",
            "cost_covers": COST_COVERS,
            "data": [{**b.key, **b.figures.as_dict()} for b in self.buckets],
            "total": self.total.as_dict(),
            "split": {name: figures.as_dict() for name, figures in self.split.items()},
            "forecast": self.forecast.as_dict(),
            "generated_at": self.generated_at.isoformat(),
        }


class _Sum:
    """A bucket being added up."""

    __slots__ = (
        "cached",
        "completion",
        "cost",
        "failed",
        "prompt",
        "requests",
        "unpriced",
        "users",
    )

    def __init__(self) -> None:
        self.requests = self.failed = self.unpriced = 0
        self.prompt = self.cached = self.completion = self.cost = 0
        self.users: set[int] = set()

    def add(self, row: Any) -> None:
        self.requests += int(row.requests)
        self.failed += int(row.failed)
        self.unpriced += int(row.unpriced)
        self.prompt += int(row.prompt or 0)
        self.cached += int(row.cached or 0)
        self.completion += int(row.completion or 0)
        self.cost += int(row.cost or 0)
        if row.user_id is not None:
            self.users.add(int(row.user_id))

    def figures(self) -> UsageFigures:
        return UsageFigures(
            requests=self.requests,
            failed_requests=self.failed,
            unpriced_requests=self.unpriced,
            prompt_tokens=self.prompt,
            cached_tokens=self.cached,
            completion_tokens=self.completion,
            cost_micro_eur=self.cost,
            active_users=len(self.users),
        )


def _hour_bucket(dialect: str) -> ColumnElement[str]:
    # Text 'YYYY-MM-DD HH' of the UTC hour. SQLite stores UTC wall time as text; PostgreSQL's
    # timestamptz is shifted to UTC first so the server's TimeZone setting cannot matter.
    if dialect == "sqlite":
        return func.strftime("%Y-%m-%d %H", ledger.c.started_at)
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", ledger.c.started_at), "YYYY-MM-DD HH24")
    raise ReportError(f"unsupported database dialect {dialect!r}")


_SQL_DIMENSIONS = {
    Dimension.DEPARTMENT: ledger.c.department_id,
    Dimension.USE_CASE: ledger.c.use_case,
    Dimension.MODEL: ledger.c.model,
}


async def _department_id(engine: AsyncEngine, name: str | None) -> int | None:
    if name is None:
        return None
    department = await directory.find_department(engine, name)
    if department is None:
        raise UnknownDepartment(name)
    return department.id


Figures = tuple[dict[tuple[str, ...], UsageFigures], UsageFigures, dict[str, UsageFigures]]
"""A report's figures: per bucket key, in total, per split."""


def _counted(row: Any) -> UsageFigures:
    return UsageFigures(
        requests=int(row.requests),
        failed_requests=int(row.failed),
        unpriced_requests=int(row.unpriced),
        prompt_tokens=int(row.prompt),
        cached_tokens=int(row.cached),
        completion_tokens=int(row.completion),
        cost_micro_eur=int(row.cost),
        active_users=int(row.active_users),
    )


def _rollup_key(
    row: Any, dims: Sequence[Dimension], names: Mapping[str, Mapping[int, str]]
) -> tuple[str, ...]:
    values = []
    for dim in dims:
        raw = getattr(row, dim.value)
        if dim is Dimension.DEPARTMENT or dim is Dimension.USER:
            value = NONE_LABEL if raw is None else names[dim.value].get(int(raw), str(raw))
        elif dim is Dimension.DAY:
            value = raw.isoformat() if isinstance(raw, date) else str(raw)
        else:
            value = str(raw)
        values.append(value)
    return tuple(values)


async def _figures_from_rollups(
    connection: AsyncConnection,
    period: DateRange,
    dims: Sequence[Dimension],
    department_id: int | None,
    view: DeploymentView,
    names: Mapping[str, Mapping[int, str]],
    *,
    active_users: bool = True,
) -> Figures:
    rows = await rollup_reads.usage_rows(
        connection,
        period.first,
        period.last,
        [d.value for d in dims],
        department_id=department_id,
        deployments=view,
        active_users=active_users,
    )
    buckets = {_rollup_key(row, dims, names): _counted(row) for row in rows.buckets}
    split = {name: _Sum().figures() for name in (SPLIT_ON_PREMISE, SPLIT_EXTERNAL, SPLIT_OTHER)}
    split.update({row.split: _counted(row) for row in rows.split})
    return buckets, _counted(rows.total), split


async def _figures_from_scan(
    connection: AsyncConnection,
    period: DateRange,
    dims: Sequence[Dimension],
    department_id: int | None,
    view: DeploymentView,
    names: Mapping[str, Mapping[int, str]],
) -> Figures:
    buckets: dict[tuple[str, ...], _Sum] = {}
    total = _Sum()
    split = {name: _Sum() for name in (SPLIT_ON_PREMISE, SPLIT_EXTERNAL, SPLIT_OTHER)}
    for row in await _scan_rows(connection, period, dims, department_id):
        key = _key_of(row, dims, names, view, period.tz)
        buckets.setdefault(key, _Sum()).add(row)
        total.add(row)
        split[_split_of(row, view)].add(row)
    return (
        {key: acc.figures() for key, acc in buckets.items()},
        total.figures(),
        {name: acc.figures() for name, acc in split.items()},
    )


async def _scan_rows(
    connection: AsyncConnection,
    period: DateRange,
    dims: Sequence[Dimension],
    department_id: int | None,
) -> list[Any]:
    keys: list[ColumnElement[Any]] = [ledger.c.user_id, ledger.c.deployment]
    keys += [_SQL_DIMENSIONS[d].label(d.value) for d in dims if d in _SQL_DIMENSIONS]
    if any(d in _TIME for d in dims):
        keys.append(_hour_bucket(connection.dialect.name).label("hour"))
    unpriced = (ledger.c.cost_micro_eur.is_(None)) | (ledger.c.price_version == UNPRICED_VERSION)
    query = (
        select(
            *keys,
            func.count().label("requests"),
            func.sum(case((ledger.c.status_code >= 400, 1), else_=0)).label("failed"),
            func.sum(case((unpriced, 1), else_=0)).label("unpriced"),
            func.sum(ledger.c.prompt_tokens).label("prompt"),
            func.sum(ledger.c.cached_tokens).label("cached"),
            func.sum(ledger.c.completion_tokens).label("completion"),
            func.sum(ledger.c.cost_micro_eur).label("cost"),
        )
        .where(ledger.c.started_at >= period.start, ledger.c.started_at < period.end)
        .group_by(*keys)
    )
    if department_id is not None:
        query = query.where(ledger.c.department_id == department_id)
    return list((await connection.execute(query)).all())


async def _names(engine: AsyncEngine, dims: Iterable[Dimension]) -> dict[str, dict[int, str]]:
    wanted = set(dims)
    names: dict[str, dict[int, str]] = {}
    if Dimension.DEPARTMENT in wanted:
        names["department"] = {d.id: d.name for d in await directory.list_departments(engine)}
    if Dimension.USER in wanted:
        async with engine.connect() as connection:
            rows = (await connection.execute(select(users.c.id, users.c.username))).all()
        names["user"] = {int(r.id): str(r.username) for r in rows}
    return names


def _local_hour(text: str, tz: ZoneInfo) -> datetime:
    hour = datetime.strptime(text, "%Y-%m-%d %H").replace(tzinfo=UTC).astimezone(tz)
    if hour.minute or hour.second:
        raise ReportError(f"time zone {tz.key} has a fractional-hour offset; days unsupported")
    return hour


def _key_of(
    row: Any,
    dims: Sequence[Dimension],
    names: Mapping[str, Mapping[int, str]],
    deployments: DeploymentView,
    tz: ZoneInfo,
) -> tuple[str, ...]:
    values: list[str] = []
    local: datetime | None = None
    for dim in dims:
        if dim is Dimension.DEPARTMENT or dim is Dimension.USER:
            raw = row.department if dim is Dimension.DEPARTMENT else row.user_id
            value = NONE_LABEL if raw is None else names[dim.value].get(int(raw), str(raw))
        elif dim is Dimension.USE_CASE or dim is Dimension.MODEL:
            value = getattr(row, dim.value) or NONE_LABEL
        elif dim is Dimension.DEPLOYMENT:
            value = row.deployment or NONE_LABEL
        elif dim is Dimension.PROVIDER or dim is Dimension.HOSTING_CLASS:
            where = deployments.get(row.deployment or "", (UNKNOWN, UNKNOWN))
            value = where[0] if dim is Dimension.PROVIDER else where[1]
        else:
            local = local or _local_hour(row.hour, tz)
            value = local.date().isoformat() if dim is Dimension.DAY else f"{local:%Y-%m}"
        values.append(value)
    return tuple(values)


def _split_of(row: Any, deployments: DeploymentView) -> str:
    where = deployments.get(row.deployment or "")
    if where is None:
        return SPLIT_OTHER
    return SPLIT_ON_PREMISE if where[1] == ON_PREMISE else SPLIT_EXTERNAL


async def usage_report(
    engine: AsyncEngine,
    *,
    period: DateRange,
    group_by: Sequence[Dimension] = (),
    department: str | None = None,
    deployments: DeploymentView | None = None,
    budget: Decimal | None = None,
    now: datetime | None = None,
    use_rollups: bool = True,
    active_users: bool = True,
) -> UsageReport:
    """The usage report of ``period``, grouped by ``group_by`` (may be empty: totals only).

    ``department`` (a department name) restricts every figure to that department; the HTTP
    route sets it for department admins. ``deployments`` maps deployment names to (provider,
    hosting class); deployments missing from it show as ``unknown``. Figures come from the
    daily rollups when they are kept in the period's zone (``use_rollups=False``: from a scan
    of the ledger; both give the same figures). ``active_users=False``: a page that does not
    show active users skips counting them in the rollups (they may read 0). Raises
    :class:`UnknownDepartment` and :class:`ReportError`.
    """
    dims = tuple(group_by)
    view = deployments or {}
    clock = now or datetime.now(UTC)
    department_id = await _department_id(engine, department)
    names = await _names(engine, dims)
    async with engine.connect() as connection:
        arguments = (connection, period, dims, department_id, view, names)
        if use_rollups and await rollups_cover(connection, period.tz):
            read = await _figures_from_rollups(*arguments, active_users=active_users)
        else:
            read = await _figures_from_scan(*arguments)
        buckets, figures, split = read
    return UsageReport(
        period=period,
        group_by=dims,
        department=department,
        buckets=tuple(
            Bucket(dict(zip((d.value for d in dims), key, strict=True)), bucket)
            for key, bucket in sorted(buckets.items())
        ),
        total=figures,
        split=split,
        forecast=forecast(figures.cost_eur, period, clock, budget),
        generated_at=clock,
    )


async def top_consumers(
    engine: AsyncEngine,
    *,
    period: DateRange,
    by: Dimension = Dimension.USER,
    limit: int = 10,
    department: str | None = None,
) -> list[Bucket]:
    """The ``limit`` users (or use cases...) that cost most in ``period``, most expensive first.

    Ties are broken by name so the order is stable.
    """
    if by in _TIME:
        raise ReportError("top consumers are ranked by user, use case, department or model")
    report = await usage_report(engine, period=period, group_by=(by,), department=department)
    ranked = sorted(report.buckets, key=lambda b: (-b.figures.cost_micro_eur, b.key[by.value]))
    return ranked[: max(0, limit)]
