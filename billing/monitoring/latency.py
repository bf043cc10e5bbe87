"""Latency percentiles (p50, p95) per use case, from the ledger, on SQLite and PostgreSQL alike.

The ledger is read as a histogram (one count per use case and latency bucket, computed by the
database), never row by row, so a busy week costs one grouped query. Buckets grow by 2^(1/4)
(about 19 %) from 1 ms to about 17 minutes; a percentile is its bucket's upper bound, capped by
the largest latency seen: at most ~19 % above the exact value, never below it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from billing.db.schema import ledger
from billing.ledger.use_case_traffic import NO_USE_CASE

BOUNDS_MS: tuple[float, ...] = tuple(2 ** (k / 4) for k in range(81))
"""Upper bounds of the buckets, in milliseconds (the last bucket also holds anything slower)."""


@dataclass(frozen=True, slots=True)
class Percentiles:
    p50_ms: float
    p95_ms: float


def percentile(counts: dict[int, int], q: float, largest: float) -> float:
    """The ``q`` quantile (0 < q ≤ 1) of a histogram of bucket index → count."""
    total = sum(counts.values())
    if not total:
        return 0.0
    rank, seen = q * total, 0
    for index in sorted(counts):
        seen += counts[index]
        if seen >= rank:
            return min(BOUNDS_MS[index], largest)
    return largest


async def latency_percentiles(
    engine: AsyncEngine, start: datetime, end: datetime
) -> dict[str, Percentiles]:
    """Every use case's p50 and p95 latency over ``[start, end)`` (``(none)``: no use case)."""
    bucket = case(
        *((ledger.c.latency_ms <= bound, index) for index, bound in enumerate(BOUNDS_MS)),
        else_=len(BOUNDS_MS) - 1,
    ).label("bucket")
    query = (
        select(
            ledger.c.use_case,
            bucket,
            func.count().label("requests"),
            func.max(ledger.c.latency_ms).label("largest"),
        )
        .where(and_(ledger.c.started_at >= start, ledger.c.started_at < end))
        .group_by(ledger.c.use_case, bucket)
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    histograms: dict[str, dict[int, int]] = defaultdict(dict)
    largest: dict[str, float] = defaultdict(float)
    for row in rows:
        name = row.use_case or NO_USE_CASE
        histograms[name][int(row.bucket)] = int(row.requests)
        largest[name] = max(largest[name], float(row.largest or 0))
    return {
        name: Percentiles(
            percentile(counts, 0.50, largest[name]), percentile(counts, 0.95, largest[name])
        )
        for name, counts in histograms.items()
    }
