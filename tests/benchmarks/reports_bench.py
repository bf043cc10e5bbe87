"""Benchmark (not a test): the console's report queries on 5 million ledger records in
PostgreSQL, from a ledger scan (before) and from the daily rollups (after).

    .venv/bin/python -m tests.benchmarks.reports_bench [--rows 5000000] [--months 12]
        [--repeats 30] [--scan-repeats 5] [--keep]

Creates a scratch database on the test PostgreSQL (``tests/services.py``: env
``HYGIE_TEST_POSTGRES_*``), migrates it, fills the directory (30 departments, 1,500 users) and
the ledger with ``--rows`` records spread over ``--months`` months of 2026 (COPY through
asyncpg, in chunks), priced by the test cost model as the gateway prices them, with refusals,
errors and unpriced requests. Use is skewed (Pareto) across users, by hour of day, and each
user mostly works through one use case (90 %) and one model (85 %).

It then times the rollup rebuild and each query a console page needs, ``--repeats`` times from
the rollups and ``--scan-repeats`` times from the ledger, and prints p50/p95 in milliseconds.
Each figure includes the Python work after the query (building the report objects), as a page
would pay it. Target: p95 <= 300 ms after. The scratch database is dropped at the end unless
``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from billing.db.database import make_engine
from billing.db.migrate import upgrade_to_head_async
from billing.db.schema import ledger
from billing.ledger.rollups import rebuild_rollups
from billing.periods import month_period
from billing.pricing.costing import Costing
from billing.reports.date_range import DateRange
from billing.reports.ledger_charges import month_charges
from billing.reports.ledger_page import LedgerFilter, ledger_page
from billing.reports.report import Dimension, usage_report
from billing.usage import Usage
from tests.reports.factories import PARIS, make_costing
from tests.services import (
    POSTGRES_HOST,
    POSTGRES_PORT,
    POSTGRES_USER,
    create_postgres_database,
    drop_postgres_database,
)

DEPARTMENTS = 30
USERS_PER_DEPARTMENT = 50
ROUTES = (
    ("mistral-small", "ms-onprem"),
    ("mistral-small", "ms-onprem"),
    ("mistral-medium", "mm-cloud"),
    ("gpt-4o-mini", "azure-4o"),
    ("radio-llm", "radio-onprem"),
    ("old-model", "gone"),
)
STATUSES = (200,) * 95 + (429, 429, 403, 500, 502)
CHUNK = 100_000
# The columns the generator writes (in table order); the later, nullable ones stay NULL.
_NOT_WRITTEN = {"entity_counts", "front_end_key_id", "end_user_verified", "use_case_flag"}
COLUMNS = [c.name for c in ledger.columns if c.name not in _NOT_WRITTEN]
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 16, 14, 10, 12, 15, 15, 13, 10, 6, 4, 3, 2, 1, 1]


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _directory(connection: asyncpg.Connection) -> list[tuple[int, int, list[str]]]:
    """Departments and users; returns (user id, department id, use cases of the department)."""
    now = datetime.now(UTC)
    await connection.executemany(
        "INSERT INTO departments (id, name, display_name, created_at) VALUES ($1, $2, $3, $4)",
        [(d, f"service-{d:02d}", f"Service {d:02d}", now) for d in range(1, DEPARTMENTS + 1)],
    )
    users = []
    for d in range(1, DEPARTMENTS + 1):
        for n in range(USERS_PER_DEPARTMENT):
            users.append(((d - 1) * USERS_PER_DEPARTMENT + n + 1, d))
    await connection.executemany(
        "INSERT INTO users (id, department_id, username, display_name, role, created_at)"
        " VALUES ($1, $2, $3, '', 'member', $4)",
        [(u, d, f"user-{u:05d}", now) for u, d in users],
    )
    return [(u, d, [f"uc-{d}-{k}" for k in range(3)]) for u, d in users]


def _records(
    rng: random.Random, count: int, months: int, costing: Costing, people: list[Any]
) -> Iterator[tuple[Any, ...]]:
    """Ledger rows as COPY tuples, in the order of :data:`COLUMNS`."""
    start = datetime(2026, 1, 1, tzinfo=PARIS)
    days = (month_period(2026, months, PARIS).end - start.astimezone(UTC)).days
    # Some users use the gateway much more than others; each mostly works through one
    # application (use case) and one model.
    weights = [rng.paretovariate(1.2) for _ in people]
    primary = [rng.randrange(len(ROUTES)) for _ in people]
    habit = [rng.randrange(3) for _ in people]
    chosen = rng.choices(range(len(people)), weights=weights, k=count)
    hours = rng.choices(range(24), weights=HOUR_WEIGHTS, k=count)
    for index in range(count):
        who = chosen[index]
        user, department, use_cases = people[who]
        route = primary[who] if rng.random() < 0.85 else rng.randrange(len(ROUTES))
        use_case = use_cases[habit[who] if rng.random() < 0.9 else rng.randrange(3)]
        model, deployment = ROUTES[route]
        local = start + timedelta(days=rng.randrange(days), hours=hours[index])
        at = (local + timedelta(seconds=rng.randrange(3600))).astimezone(UTC)
        status = rng.choice(STATUSES)
        prompt = completion = cached = 0
        cost: int | None = 0
        version: str | None = None
        fx: str | None = None
        if status < 400:
            prompt, completion = rng.randint(50, 6000), rng.randint(10, 1500)
            cached = prompt // 2 if rng.random() < 0.3 else 0
            priced = costing.price_request(model, deployment, Usage(prompt, completion, cached), at)
            cost, version = priced.micro_eur, priced.version
            fx = None if priced.fx_rate is None else str(priced.fx_rate)
        latency = rng.uniform(80, 9000)
        yield (
            f"bench-{index:09d}",  # request_id
            at,  # started_at
            at + timedelta(milliseconds=latency),  # finished_at
            "chat",  # endpoint
            f"key-{user}",  # key_id
            user,
            department,
            use_case,
            model,
            deployment,
            f"http://{deployment}:8000",  # replica
            status,
            None if status < 400 else f"http_{status}",  # error_class
            prompt,
            completion,
            cached,
            False,  # tokens_estimated
            latency,
            latency / 10,  # ttft_ms
            rng.random() < 0.5,  # streamed
            False,  # client_disconnected
            1,  # attempts
            None,  # fallback_model
            "health" if rng.random() < 0.4 else "internal",  # data_class
            "2026-01",  # policy_version
            "deny" if status == 403 else "allow",  # policy_decision
            cost,
            version,
            fx,
        )


async def _fill(url: str, rows: int, months: int, seed: int) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        people = await _directory(connection)
        rng = random.Random(seed)
        generated = _records(rng, rows, months, make_costing(), people)
        written = 0
        while written < rows:
            chunk = [next(generated) for _ in range(min(CHUNK, rows - written))]
            await connection.copy_records_to_table("ledger", records=chunk, columns=COLUMNS)
            written += len(chunk)
            print(f"  {written:>10,} records", flush=True)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


async def _time(action: Callable[[], Awaitable[object]], repeats: int) -> tuple[float, float]:
    await action()  # warm: connection pool, plan cache
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        await action()
        samples.append((time.perf_counter() - began) * 1000)
    return _percentiles(samples)


def _queries(engine: AsyncEngine, months: int) -> dict[str, Callable[[bool], Awaitable[object]]]:
    """Each console query, as a function of ``use_rollups``."""
    month = min(months, 3)
    period = DateRange.month_of(datetime(2026, month, 15, tzinfo=PARIS), PARIS)
    costing = make_costing()
    view = costing.deployment_view()
    now = month_period(2026, month, PARIS).end - timedelta(hours=1)

    def usage(dims: tuple[Dimension, ...], **extra: Any) -> Callable[[bool], Awaitable[object]]:
        return lambda rollups: usage_report(
            engine,
            period=period,
            group_by=dims,
            deployments=view,
            now=now,
            use_rollups=rollups,
            **extra,
        )

    async def chargeback(rollups: bool) -> object:
        charges = await month_charges(
            engine, costing, month_period(2026, month, PARIS), until=now, use_rollups=rollups
        )
        return charges.statement("service-07", now=now)

    async def explorer_page(_: bool) -> object:
        where = LedgerFilter(period=period, department_id=7, status_code=200)
        first = await ledger_page(engine, where, limit=50)
        return await ledger_page(engine, where, cursor=first.next_cursor, limit=50)

    async def explorer_user(_: bool) -> object:
        return await ledger_page(engine, LedgerFilter(period=period, user_id=321), limit=50)

    async def explorer_refusals(_: bool) -> object:
        return await ledger_page(engine, LedgerFilter(period=period, status_code=429), limit=50)

    return {
        "month overview per department (+ on-prem/external split)": usage((Dimension.DEPARTMENT,)),
        "requests/tokens per day, month": usage((Dimension.DAY,)),
        "usage by department x model": usage((Dimension.DEPARTMENT, Dimension.MODEL)),
        "usage by user (1,500 buckets)": usage((Dimension.USER,)),
        "one department by use case x day": usage(
            (Dimension.USE_CASE, Dimension.DAY), department="service-07"
        ),
        "chargeback statement, department-month": chargeback,
        "explorer: page 2, dept + status filter": explorer_page,
        "explorer: page 1, one user": explorer_user,
        "explorer: page 1, refusals (429)": explorer_refusals,
    }


async def _build(url: str, engine: AsyncEngine, args: argparse.Namespace) -> None:
    began = time.perf_counter()
    print(f"filling {args.rows:,} records over {args.months} months...", flush=True)
    await _fill(url, args.rows, args.months, args.seed)
    print(f"filled in {time.perf_counter() - began:.0f} s", flush=True)
    began = time.perf_counter()
    rebuilt = await rebuild_rollups(engine, PARIS)
    print(
        f"rollups rebuilt in {time.perf_counter() - began:.1f} s: {rebuilt.rows:,} rows "
        f"for {rebuilt.days} days, {rebuilt.requests:,} requests",
        flush=True,
    )
    async with engine.begin() as connection:
        await connection.exec_driver_sql("ANALYZE ledger_daily")


async def _bench(url: str, args: argparse.Namespace) -> None:
    engine = make_engine(url)
    try:
        if args.reuse is None:
            await _build(url, engine, args)
        print(f"\n| query | before p50 | before p95 | after p50 | after p95 |\n|{'---|' * 5}")
        for name, query in _queries(engine, args.months).items():
            row_level = name.startswith("explorer")
            after = await _time(functools.partial(query, True), args.repeats)
            before: tuple[float | None, float | None] = (None, None)
            if not row_level and args.scan_repeats:
                before = await _time(functools.partial(query, False), args.scan_repeats)
            cells = [f"{v:.0f} ms" if v is not None else "(same)" for v in (*before, *after)]
            print(f"| {name} | {' | '.join(cells)} |", flush=True)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--months", type=int, default=12, choices=range(1, 13))
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--scan-repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database.")
    parser.add_argument("--reuse", metavar="NAME", help="Time the queries on a kept database.")
    args = parser.parse_args()
    if args.reuse is None:
        url, name = create_postgres_database()
        asyncio.run(upgrade_to_head_async(url))
    else:
        name = args.reuse
        url = f"postgresql+asyncpg://{POSTGRES_USER}@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}"
        args.keep = True
    try:
        asyncio.run(_bench(url, args))
    finally:
        if args.keep:
            print(f"kept database {name}: {url}")
        else:
            drop_postgres_database(name)


if __name__ == "__main__":
    main()
