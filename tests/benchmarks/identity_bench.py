"""Benchmark (not a test): what authenticating costs, API key vs identity-provider token.

Measures, in one process and interleaved (so both see the same machine load): a cached API key,
a cached token (a real RS256 access token verified once against a JWKS served over HTTP), and
the first verification of a token (signature and claims). Figures are per call, medians of
batches of 200 calls.

Run: .venv/bin/python -m tests.benchmarks.identity_bench
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

from tests.identity.bench_setup import BenchIdentity, bench_identity

BATCH = 200
ROUNDS = 300


async def _batch_us(call: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    for _ in range(BATCH):
        await call()
    return (time.perf_counter() - started) / BATCH * 1e6


async def measure(setup: BenchIdentity) -> dict[str, float]:
    """Median µs per call of a cached key, a cached token, and their difference."""
    auth, key, token = setup.authenticator, setup.key_header, setup.token_header
    await auth.authenticate(key)
    await auth.authenticate(token)
    keys, tokens = [], []
    for _ in range(ROUNDS):
        keys.append(await _batch_us(lambda: auth.authenticate(key)))
        tokens.append(await _batch_us(lambda: auth.authenticate(token)))
    key_us, token_us = statistics.median(keys), statistics.median(tokens)
    first = []
    for i in range(50):
        fresh = setup.fresh_token_header(i)
        started = time.perf_counter()
        await auth.authenticate(fresh)
        first.append((time.perf_counter() - started) * 1e6)
    return {
        "cached_key_us": key_us,
        "cached_token_us": token_us,
        "token_minus_key_us": token_us - key_us,
        "first_verification_us": statistics.median(first),
    }


def main() -> None:
    async def run() -> dict[str, float]:
        async with bench_identity() as setup:
            return await measure(setup)

    figures = asyncio.run(run())
    print(f"cached API key        p50 {figures['cached_key_us']:8.2f} µs")
    print(f"cached token (RS256)  p50 {figures['cached_token_us']:8.2f} µs")
    print(f"token - key           p50 {figures['token_minus_key_us']:8.2f} µs (budget: 50 µs)")
    print(f"first token check     p50 {figures['first_verification_us']:8.2f} µs (incl. user sync)")


if __name__ == "__main__":
    main()
