"""Rollups of the ledger: one row per local day (and month) and group, in step with the ledger.

``ledger_daily`` holds, for each day of the organisation's time zone and each combination of
department, use case, user, model, deployment, price version, exchange rate, policy decision and
status code, the request count and the exact sums of tokens and micro-euros (plus latency sums).
``ledger_monthly`` holds the same by calendar month, for reports of whole months. Reports
read them instead of scanning millions of ledger rows; row-level views still read the
ledger, which stays the source of truth.

Guarantees:

* **Never out of step**: :func:`add_records` runs in the transaction that inserts the ledger
  batch, and counts only the records that batch really inserted (a replayed record is counted
  once), so a rollup and its ledger rows commit or roll back together. Every ledger insert
  and journal replay goes through ``insert_records``; a quarantined record is in neither.
* **One time zone**: ``ledger_rollup_zone`` names the zone the days are cut in (whole local
  days, so the 23- and 25-hour DST days are whole, for any offset, fractional ones included).
  Reports asked for another zone scan the ledger instead (right, only slower). When the
  organisation's zone changes, :func:`ensure_rollups` (at gateway start) rebuilds the rollups in
  the new zone; a database with no zone recorded keeps no rollups until then.
* **Rebuild is idempotent**: :func:`rebuild_rollups` deletes and recomputes every row from the
  ledger in one transaction that blocks ledger inserts meanwhile (they wait, journaled), so the
  result equals what the writer would have built.

A group is identified by a hash of its dimension values (``group_key``): ``NULL`` never equals
anything in a unique index, and an empty string is not the same as no value.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from operator import attrgetter, itemgetter
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import ColumnElement, Insert, Table, case, delete, func, insert, select, text, true
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from billing.db.schema import ledger, ledger_daily, ledger_monthly, ledger_rollup_zone
from billing.ledger.record import LedgerRecord

log = logging.getLogger("hygie.ledger")

DIMENSIONS = (
    "department_id",
    "use_case",
    "user_id",
    "model",
    "deployment",
    "price_version",
    "fx_rate",
    "policy_decision",
    "status_code",
)
"""The ledger columns a rollup row is grouped by (and keeps, for reports to group by)."""

SUMS = (
    "requests",
    "null_cost_requests",
    "estimated_requests",
    "streamed_requests",
    "disconnected_requests",
    "prompt_tokens",
    "cached_tokens",
    "billed_cached_tokens",
    "completion_tokens",
    "cost_micro_eur",
    "latency_ms_sum",
    "ttft_ms_sum",
    "ttft_count",
)
"""What a rollup row adds up; every one is a plain sum, so rows merge by addition."""

_INSERT_CHUNK = 2000


def group_key(values: Sequence[Any]) -> str:
    """A stable identifier of one combination of dimension values (None differs from '')."""
    return hashlib.blake2b(orjson.dumps(list(values)), digest_size=16).hexdigest()


def local_day(instant: datetime, tz: ZoneInfo) -> date:
    """The day of ``tz`` that ``instant`` falls on (a naive instant is UTC, as SQLite gives)."""
    aware = instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)
    return aware.astimezone(tz).date()


_dimension_values = attrgetter(*DIMENSIONS)


def _record_sums(record: LedgerRecord) -> tuple[int | float, ...]:
    cost = record.cost_micro_eur
    return (
        1,
        1 if cost is None else 0,
        1 if record.tokens_estimated else 0,
        1 if record.streamed else 0,
        1 if record.client_disconnected else 0,
        record.prompt_tokens,
        record.cached_tokens,
        min(record.cached_tokens, record.prompt_tokens),  # as the request was priced
        record.completion_tokens,
        cost or 0,
        record.latency_ms,
        record.ttft_ms or 0.0,
        0 if record.ttft_ms is None else 1,
    )


def fold(records: Iterable[LedgerRecord], tz: ZoneInfo) -> list[dict[str, Any]]:
    """``records`` added up into rollup rows of ``tz``'s days, sorted by (day, group_key)."""
    totals: dict[tuple[date, tuple[Any, ...]], list[Any]] = {}
    for record in records:
        key = (local_day(record.started_at, tz), _dimension_values(record))
        sums = _record_sums(record)
        current = totals.get(key)
        if current is None:
            totals[key] = list(sums)
        else:
            for index, value in enumerate(sums):
                current[index] += value
    rows = [
        {
            "day": day,
            "group_key": group_key(values),  # hashed once per group, not per record
            **dict(zip(DIMENSIONS, values, strict=True)),
            **dict(zip(SUMS, sums, strict=True)),
        }
        for (day, values), sums in totals.items()
    ]
    rows.sort(key=itemgetter("day", "group_key"))
    return rows


def _upsert(dialect: str, table: Table, period: str) -> Insert:
    from sqlalchemy.dialects import postgresql, sqlite  # only the dialect in use is loaded

    if dialect == "postgresql":
        statement: Any = postgresql.insert(table)
    elif dialect == "sqlite":
        statement = sqlite.insert(table)
    else:
        raise ValueError(f"unsupported database dialect {dialect!r}")
    added = {name: table.c[name] + statement.excluded[name] for name in SUMS}
    result: Insert = statement.on_conflict_do_update(
        index_elements=[period, "group_key"], set_=added
    )
    return result


def by_month(daily_rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Daily rollup rows added up by calendar month (``YYYY-MM``), sorted like them."""
    months: dict[tuple[str, str], dict[str, Any]] = {}
    for row in daily_rows:
        key = (f"{row['day']:%Y-%m}", row["group_key"])
        current = months.get(key)
        if current is None:
            current = months[key] = {k: v for k, v in row.items() if k != "day"}
            current["month"] = key[0]
        else:
            for name in SUMS:
                current[name] += row[name]
    return [months[key] for key in sorted(months)]


async def rollup_zone(connection: AsyncConnection) -> str | None:
    """The time zone the rollups are kept in, or None when none are kept."""
    query = select(ledger_rollup_zone.c.zone).where(ledger_rollup_zone.c.id == 1)
    return (await connection.execute(query)).scalar_one_or_none()


async def add_records(connection: AsyncConnection, records: Sequence[LedgerRecord]) -> None:
    """Add newly inserted ledger ``records`` to the rollups, in the caller's transaction.

    Rows are written in (day, group) order so that two writers never wait on each other in
    opposite orders (no deadlock between gateway processes).
    """
    if not records:
        return
    zone = await rollup_zone(connection)
    if zone is None:
        return
    rows = fold(records, ZoneInfo(zone))
    dialect = connection.dialect.name
    await connection.execute(_upsert(dialect, ledger_daily, "day"), rows)
    await connection.execute(_upsert(dialect, ledger_monthly, "month"), by_month(rows))


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """What a rebuild wrote."""

    zone: str
    days: int
    rows: int
    requests: int


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((condition, 1), else_=0))


def _aggregate_columns() -> list[Any]:
    ledger_c = ledger.c
    one_if = _count_if
    return [
        *(ledger_c[name] for name in DIMENSIONS),
        func.count().label("requests"),
        one_if(ledger_c.cost_micro_eur.is_(None)).label("null_cost_requests"),
        one_if(ledger_c.tokens_estimated == true()).label("estimated_requests"),
        one_if(ledger_c.streamed == true()).label("streamed_requests"),
        one_if(ledger_c.client_disconnected == true()).label("disconnected_requests"),
        func.sum(ledger_c.prompt_tokens).label("prompt_tokens"),
        func.sum(ledger_c.cached_tokens).label("cached_tokens"),
        func.sum(
            case(
                (ledger_c.cached_tokens > ledger_c.prompt_tokens, ledger_c.prompt_tokens),
                else_=ledger_c.cached_tokens,
            )
        ).label("billed_cached_tokens"),
        func.sum(ledger_c.completion_tokens).label("completion_tokens"),
        func.coalesce(func.sum(ledger_c.cost_micro_eur), 0).label("cost_micro_eur"),
        func.sum(ledger_c.latency_ms).label("latency_ms_sum"),
        func.coalesce(func.sum(ledger_c.ttft_ms), 0.0).label("ttft_ms_sum"),
        func.count(ledger_c.ttft_ms).label("ttft_count"),
    ]


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


async def _ledger_days(connection: AsyncConnection, tz: ZoneInfo) -> list[date]:
    bounds = select(func.min(ledger.c.started_at), func.max(ledger.c.started_at))
    first, last = (await connection.execute(bounds)).one()
    if first is None:
        return []
    start, stop = local_day(first, tz), local_day(last, tz)
    return [start + timedelta(days=n) for n in range((stop - start).days + 1)]


async def _lock_ledger(connection: AsyncConnection) -> None:
    # PostgreSQL: inserts wait until the rebuild commits (reads go on). SQLite: the DELETE
    # that follows takes the database's single write lock first, with the same effect.
    if connection.dialect.name == "postgresql":
        await connection.execute(text("LOCK TABLE ledger IN SHARE MODE"))


async def rebuild_rollups(engine: AsyncEngine, tz: ZoneInfo) -> Rebuilt:
    """Recompute every rollup row from the ledger in ``tz``'s days, and keep them in ``tz``
    from now on. Idempotent; one transaction, during which ledger inserts wait."""
    rebuilt = await _rebuild(engine, tz, unless_kept=False)
    assert rebuilt is not None
    return rebuilt


async def _rebuild(engine: AsyncEngine, tz: ZoneInfo, *, unless_kept: bool) -> Rebuilt | None:
    columns = _aggregate_columns()
    days = rows = requests = 0
    async with engine.begin() as connection:
        await _lock_ledger(connection)
        # Several gateways starting at once: the first one rebuilds, the others find it done
        # once they hold the lock. (SQLite has one writer process, and must take its write
        # lock before any read here.)
        postgres = connection.dialect.name == "postgresql"
        if unless_kept and postgres and await rollup_zone(connection) == tz.key:
            return None
        await connection.execute(delete(ledger_daily))
        await connection.execute(delete(ledger_monthly))
        await connection.execute(delete(ledger_rollup_zone))
        # Day by day: exact for any zone (DST, fractional offsets) with one SQL for both
        # databases; each day is an index range scan on ledger.started_at.
        for day in await _ledger_days(connection, tz):
            query = (
                select(*columns)
                .where(ledger.c.started_at >= _midnight(day, tz))
                .where(ledger.c.started_at < _midnight(day + timedelta(days=1), tz))
                .group_by(*(ledger.c[name] for name in DIMENSIONS))
            )
            groups = [_row_of(day, group) for group in await connection.execute(query)]
            if not groups:
                continue
            days += 1
            rows += len(groups)
            requests += sum(group["requests"] for group in groups)
            for start in range(0, len(groups), _INSERT_CHUNK):
                chunk = groups[start : start + _INSERT_CHUNK]
                await connection.execute(insert(ledger_daily), chunk)
        await _months_from_days(connection)
        await connection.execute(
            insert(ledger_rollup_zone),
            [{"id": 1, "zone": tz.key, "rebuilt_at": datetime.now(UTC)}],
        )
    return Rebuilt(zone=tz.key, days=days, rows=rows, requests=requests)


async def _months_from_days(connection: AsyncConnection) -> None:
    daily = ledger_daily.c
    if connection.dialect.name == "postgresql":
        month = func.to_char(daily.day, "YYYY-MM")
    else:
        month = func.substr(daily.day, 1, 7)  # SQLite keeps dates as YYYY-MM-DD text
    keys = [month.label("month"), daily.group_key, *(daily[name] for name in DIMENSIONS)]
    sums = [func.sum(daily[name]).label(name) for name in SUMS]
    query = select(*keys, *sums).group_by(*keys)
    names = ["month", "group_key", *DIMENSIONS, *SUMS]
    await connection.execute(insert(ledger_monthly).from_select(names, query))


def _row_of(day: date, group: Any) -> dict[str, Any]:
    values = tuple(getattr(group, name) for name in DIMENSIONS)
    row = {"day": day, "group_key": group_key(values), **dict(zip(DIMENSIONS, values, strict=True))}
    for name in SUMS:
        value = getattr(group, name)
        row[name] = float(value or 0) if name.endswith("_sum") else int(value or 0)
    return row


async def ensure_rollups(engine: AsyncEngine, tz: ZoneInfo) -> Rebuilt | None:
    """Rebuild the rollups unless they are already kept in ``tz`` (at gateway start: after the
    upgrade that adds them, or after the organisation's time zone changed)."""
    async with engine.connect() as connection:
        kept_in = await rollup_zone(connection)
    if kept_in == tz.key:
        return None
    log.info("building the daily ledger rollups in %s (were: %s)", tz.key, kept_in or "none")
    rebuilt = await _rebuild(engine, tz, unless_kept=True)
    if rebuilt is None:
        return None
    log.info(
        "daily ledger rollups built: %d rows for %d days, %d requests",
        rebuilt.rows,
        rebuilt.days,
        rebuilt.requests,
    )
    return rebuilt


async def rollups_cover(connection: AsyncConnection, tz: ZoneInfo) -> bool:
    """True when the rollups are kept in ``tz``, so they can answer for its days."""
    return await rollup_zone(connection) == tz.key
