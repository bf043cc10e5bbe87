"""A month of the ledger as charge lines, for the FOCUS export and the chargeback statements.

:func:`month_charges` reads one calendar month (in the organisation's time zone) and returns:

* one usage line per department x use case x model x deployment x price version x exchange
  rate x token class, from the price version recorded on each ledger row (a price change
  within the month gives two lines; the use case goes in the line's tags);
* for every GPU pool, the dedicated-GPU and true-up lines of
  :func:`billing.pricing.true_up.true_up`.

Rounding, step by step (all half-even), so that every document agrees to the cent:

1. Each ledger row holds its cost rounded to the micro-euro when the request ended.
2. A group's cost is the exact sum of its rows' micro-euros. It is split across token classes
   in proportion to quantity x unit price, to the micro-euro, by the largest-remainder method,
   so the exact usage lines add up to the ledger (checked: :class:`ReconciliationError`).
3. **One rounding per department**: its exact usage total is rounded to the cent once and
   spread over its lines by largest remainder (:func:`billing.money.round_parts`), so its
   lines add up to ``round(ledger sum)``, which is also what the usage report shows.
4. The true-up gets, per department and pool, the sum of those rounded transfer lines; so
   statements, FOCUS rows (which carry the same cent amounts) and the pool's cost agree.

Unit prices in another currency are converted at the rate stored on each ledger row (rows
with different rates give different lines), never at today's rate.

Rows of dedicated deployments cost nothing per request (the GPU-time line charges them) and
unpriced rows have no price to show; both are left out of the usage lines and counted. A row
without a department is charged to ``unassigned``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from billing import directory
from billing.db.schema import ledger
from billing.ledger.rollups import rollups_cover
from billing.money import to_micros
from billing.periods import Period, month_period
from billing.pricing.costing import (
    DEDICATED_PREFIX,
    UNPRICED_VERSION,
    Costing,
    PricingKind,
)
from billing.pricing.price_book import PriceClass
from billing.pricing.true_up import TrueUp
from billing.reports import rollup_reads
from billing.reports.charge_builder import ChargeBuilder, LedgerGroup
from billing.reports.chargeback import Statement, build_statement
from billing.reports.rows import ChargeLine

UNASSIGNED = "unassigned"


class LedgerChargesError(ValueError):
    """A month cannot be read or turned into charge lines."""


class MonthStatus(StrEnum):
    """Whether a month's figures are final."""

    CLOSED = "closed"
    """Closed by finance: read from the stored records, never recomputed."""
    PROVISIONAL = "provisional"
    """Still open: recomputed from the ledger and today's figures at every request."""


class ReconciliationError(LedgerChargesError):
    """The usage lines do not add up to the ledger: a bug, never a rounding difference."""


def parse_month(text: str, tz: ZoneInfo) -> Period:
    """``"2026-11"`` as the calendar month in ``tz``; raises :class:`LedgerChargesError`."""
    year, dash, month = text.strip().partition("-")
    if not dash or len(year) != 4 or not year.isdigit() or not month.isdigit():
        raise LedgerChargesError(f"a month is written YYYY-MM, got {text!r}")
    if not 1 <= int(month) <= 12:
        raise LedgerChargesError(f"no month {month} in {text!r}")
    return month_period(int(year), int(month), tz)


@dataclass(frozen=True, slots=True)
class MonthCharges:
    """The charge lines of one month, with the figures that prove they reconcile."""

    period: Period
    lines: tuple[ChargeLine, ...]
    true_ups: tuple[TrueUp, ...]
    ledger_cost_micros: int
    """Sum of ``cost_micro_eur`` over the month's ledger rows."""
    usage_line_micros: int
    """Sum of the token usage lines, in micro-euros; equals ``ledger_cost_micros``."""
    unpriced_requests: int
    dedicated_requests: int
    unknown_versions: tuple[str, ...]
    """Versions on the ledger no longer configured: their lines use a blended unit price."""
    department_names: Mapping[str, str]
    department_ledger_micros: Mapping[str, int] = field(default_factory=dict)
    """Exact ledger cost of each department; its usage lines add up to it rounded once."""
    status: MonthStatus = MonthStatus.PROVISIONAL
    closed_at: datetime | None = None
    issuer: str = ""
    """Who issues the statements (the organisation's invoice issuer)."""
    late_ledger_micros: int = 0
    """For a closed month: ledger cost recorded for it after the close (to correct)."""
    tz_key: str = "Europe/Paris"
    cost_centres: Mapping[str, str] = field(default_factory=dict)
    """Department name -> cost-centre code, as configured when the month was computed."""

    def knows(self, department: str) -> bool:
        """True when ``department`` exists in the directory or has lines this month."""
        return department in self.department_names or any(
            line.department_id == department for line in self.lines
        )

    def lines_for(self, department: str) -> list[ChargeLine]:
        """The lines of one department (its usage, dedicated GPUs and true-up)."""
        return [line for line in self.lines if line.department_id == department]

    def statement(
        self, department: str, *, budget: Decimal | None = None, now: datetime | None = None
    ) -> Statement:
        """The chargeback statement of ``department`` (a department name) for the month.

        A closed month's statement is dated by its closing day, so it prints the same every
        time; a provisional one by ``now`` (default: the current instant).
        """
        tz = ZoneInfo(self.tz_key)
        instant = self.closed_at if self.closed_at is not None else now or datetime.now(UTC)
        return build_statement(
            department,
            self.department_names.get(department, department),
            self.period,
            self.lines_for(department),
            budget=budget,
            status=str(self.status),
            issued_on=instant.astimezone(tz).date(),
            issuer=self.issuer,
            cost_centre=self.cost_centres.get(department),
            tz=tz,
            pools=self.true_ups,
        )


def _local_days(period: Period, tz: ZoneInfo) -> tuple[date, date] | None:
    """``period``'s first and last local day, when it is made of whole days of ``tz``."""
    first, after = period.start.astimezone(tz), period.end.astimezone(tz)
    if first.time() != time(0) or after.time() != time(0):
        return None  # not cut at local midnights: only a scan can answer exactly
    return first.date(), after.date() - timedelta(days=1)


async def _rollup_days(
    connection: AsyncConnection, period: Period, tz: ZoneInfo | None
) -> tuple[date, date] | None:
    """The local days to read from the rollups, or None when the ledger must be scanned."""
    if tz is None or not await rollups_cover(connection, tz):
        return None
    return _local_days(period, tz)


async def ledger_total_micros(
    engine: AsyncEngine, period: Period, tz: ZoneInfo | None = None
) -> int:
    """The ledger's cost of ``period`` now, in micro-euros (from the rollups kept in ``tz``,
    when given and ``period`` is made of its whole days)."""
    async with engine.connect() as connection:
        days = await _rollup_days(connection, period, tz)
        if days is not None:
            return await rollup_reads.total_cost(connection, *days)
        query = select(func.coalesce(func.sum(ledger.c.cost_micro_eur), 0)).where(
            ledger.c.started_at >= period.start, ledger.c.started_at < period.end
        )
        return int((await connection.execute(query)).scalar_one())


async def _groups(engine: AsyncEngine, period: Period, tz: ZoneInfo | None) -> list[Any]:
    async with engine.connect() as connection:
        days = await _rollup_days(connection, period, tz)
        if days is not None:
            return await rollup_reads.charge_groups(connection, *days)
        return await _scan_groups(connection, period)


async def _scan_groups(connection: AsyncConnection, period: Period) -> list[Any]:
    # Cached tokens beyond the prompt are capped at the prompt, as when the request was priced.
    cached = case(
        (ledger.c.cached_tokens > ledger.c.prompt_tokens, ledger.c.prompt_tokens),
        else_=ledger.c.cached_tokens,
    )
    keys = (
        ledger.c.department_id,
        ledger.c.use_case,
        ledger.c.model,
        ledger.c.deployment,
        ledger.c.price_version,
        ledger.c.fx_rate,
    )
    query = (
        select(
            *keys,
            func.count().label("requests"),
            func.sum(ledger.c.prompt_tokens).label("prompt"),
            func.sum(cached).label("cached"),
            func.sum(ledger.c.completion_tokens).label("completion"),
            func.sum(ledger.c.cost_micro_eur).label("cost"),
        )
        .where(ledger.c.started_at >= period.start, ledger.c.started_at < period.end)
        .group_by(*keys)
    )
    return list((await connection.execute(query)).all())


def _free_kind(version: str | None) -> PricingKind | None:
    """Why a zero-cost group has no line: unpriced, or served by a dedicated deployment."""
    if version is None or version == UNPRICED_VERSION:
        return PricingKind.UNPRICED
    if version.startswith(DEDICATED_PREFIX):
        return PricingKind.DEDICATED
    return None


async def month_charges(
    engine: AsyncEngine,
    costing: Costing,
    period: Period,
    *,
    until: datetime | None = None,
    use_rollups: bool = True,
) -> MonthCharges:
    """Every charge line of ``period`` (a calendar month), reconciled with the ledger.

    Lines are computed for the whole organisation, because a department's true-up depends on
    everyone's use of the pool; filter with :meth:`MonthCharges.lines_for`. With ``until``
    inside the month (a month in progress), the pools' cost, dedicated GPUs and true-up cover
    only ``[start, until)``: nobody is charged the rest of the month's capacity in advance.
    The groups come from the daily rollups when they are kept in the organisation's zone
    (``use_rollups=False``: from a ledger scan; the lines are the same).
    """
    rows = await _groups(engine, period, costing.tz if use_rollups else None)
    directory_rows = await directory.list_departments(engine)
    departments = {d.id: d.name for d in directory_rows}
    names = {d.name: d.display_name for d in directory_rows}
    cost_period = period
    if until is not None and period.start < until < period.end:
        cost_period = Period(period.kind, period.key, period.start, until)
    builder = ChargeBuilder(costing, period, names, cost_period)
    ledger_micros = unpriced = dedicated = 0
    per_department: dict[str, int] = {}
    for row in sorted(rows, key=_row_order(departments)):
        cost = int(row.cost or 0)
        ledger_micros += cost
        name = departments.get(row.department_id, UNASSIGNED)
        per_department[name] = per_department.get(name, 0) + cost
        group = LedgerGroup(
            department=departments.get(row.department_id, UNASSIGNED),
            model=row.model,
            deployment=row.deployment,
            version=row.price_version,
            tokens={
                PriceClass.INPUT: int(row.prompt or 0) - int(row.cached or 0),
                PriceClass.CACHED_INPUT: int(row.cached or 0),
                PriceClass.OUTPUT: int(row.completion or 0),
            },
            cost_micros=cost,
            fx=_parse_fx(row.fx_rate),
            requests=int(row.requests),
            use_case=row.use_case,
        )
        free = _free_kind(row.price_version) if cost == 0 else None
        if row.cost is None or free is PricingKind.UNPRICED:
            unpriced += int(row.requests)
            continue
        if free is PricingKind.DEDICATED:
            dedicated += int(row.requests)
            continue
        if sum(group.tokens.values()) == 0 and cost == 0:
            continue
        builder.add(group)

    usage_micros = sum(to_micros(item.line.amount) for item in builder.pending)
    if usage_micros != ledger_micros:
        raise ReconciliationError(
            f"usage lines add up to {usage_micros} micro-euros, the ledger to {ledger_micros}"
        )
    rounded = builder.rounded()
    results = builder.true_ups(rounded)
    lines = [item.line for item in rounded]
    for result in results:
        lines.extend(result.charge_lines(names, provider=costing.organisation.name))
    return MonthCharges(
        period=period,
        lines=tuple(lines),
        true_ups=tuple(results),
        ledger_cost_micros=ledger_micros,
        usage_line_micros=usage_micros,
        unpriced_requests=unpriced,
        dedicated_requests=dedicated,
        unknown_versions=tuple(sorted(builder.unknown)),
        department_names=names,
        department_ledger_micros=per_department,
        issuer=costing.organisation.invoice_issuer_name,
        tz_key=costing.tz.key,
        cost_centres=dict(costing.cost_centres),
    )


def _parse_fx(text: str | None) -> Decimal | None:
    if not text:
        return None
    try:
        rate = Decimal(text)
    except InvalidOperation:
        return None
    return rate if rate.is_finite() and rate > 0 else None


def _row_order(
    departments: Mapping[int, str],
) -> Callable[[Any], tuple[str, str, str, str, str, str]]:
    def key(row: Any) -> tuple[str, str, str, str, str, str]:
        return (
            departments.get(row.department_id, UNASSIGNED),
            row.use_case or "",
            row.model or "",
            row.deployment or "",
            row.price_version or "",
            row.fx_rate or "",
        )

    return key
