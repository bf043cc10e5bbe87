"""Median latency of one reserve + settle on Redis for a 4-level chain (a script, not a test).

Run: ``.venv/bin/python -m tests.quotas.measure_latency [iterations]`` (on uvloop, as the
gateway). Uses Redis database 15
and a throw-away organisation whose keys it deletes afterwards.
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from billing.periods import PeriodKind
from billing.quotas import Amount, Level, NodeLimits, Reserved
from billing.quotas.redis_store import RedisQuotaStore


async def measure(iterations: int) -> None:
    client = Redis.from_url("redis://127.0.0.1:6379/15")
    org = f"bench-{uuid.uuid4().hex[:8]}"
    store = RedisQuotaStore(client, org=org)
    month = PeriodKind.MONTH
    chain = [
        NodeLimits("user-1", Level.USER, rpm=10**6, tpm=10**9, max_concurrent=100),
        NodeLimits("team-1", Level.TEAM, budget_tokens=10**12, period=PeriodKind.DAY),
        NodeLimits("dept-1", Level.DEPARTMENT, budget_micro_eur=10**12, period=month),
        NodeLimits("org", Level.ORGANISATION, budget_micro_eur=10**12, period=month),
    ]
    start = datetime.now(UTC)
    samples = []
    for index in range(iterations + 200):
        now = start + timedelta(milliseconds=index)
        began = time.perf_counter()
        reserved = await store.reserve(f"r{index}", chain, Amount(20_000, 1_000), now)
        await store.settle(f"r{index}", Amount(12_000, 600), now)
        if index >= 200:  # the first calls load scripts and open the connection
            samples.append(time.perf_counter() - began)
        assert isinstance(reserved, Reserved)
    samples.sort()
    p50, p99 = statistics.median(samples), samples[int(len(samples) * 0.99)]
    label = f"reserve+settle, 4-level chain, {iterations} runs"
    print(f"{label}: p50 {p50 * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms")
    keys = [key async for key in client.scan_iter(match=f"hygie:{{{org}}}:*", count=1000)]
    if keys:
        await client.delete(*keys)
    await client.aclose()


if __name__ == "__main__":
    # The gateway runs on uvloop (uvicorn[standard]); measure on the same event loop.
    import uvloop

    uvloop.run(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 3000))
