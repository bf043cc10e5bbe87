"""A cached token costs no more than a cached API key (budget: 0.05 ms at the median)."""

from __future__ import annotations

import asyncio

from tests.benchmarks import identity_bench
from tests.identity.bench_setup import bench_identity


def test_a_cached_token_adds_under_fifty_microseconds_over_a_cached_key() -> None:
    async def run() -> dict[str, float]:
        async with bench_identity() as setup:
            return await identity_bench.measure(setup)

    figures = asyncio.run(run())
    assert figures["token_minus_key_us"] < 50, figures
    # The signature is checked once per token: the cached path is far below a verification.
    assert figures["cached_token_us"] * 10 < figures["first_verification_us"], figures
