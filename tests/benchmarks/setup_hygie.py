"""Prepare a ledger database for the benchmark: schema, a department, a user, and a key.

The benchmark harness sends one fixed bearer token to every target, so the key is stored from
that token (hashed, like any key) instead of being generated.
"""

from __future__ import annotations

import argparse
import asyncio

from billing import directory
from billing.database import make_engine
from billing.migrate import upgrade_to_head
from gateway.api_keys import hash_key


async def seed(database_url: str, token: str) -> None:
    engine = make_engine(database_url)
    try:
        await directory.create_department(engine, "bench", display_name="Benchmark")
        await directory.create_user(engine, "bench-user", department="bench")
        await directory.store_key(
            engine,
            key_id="key_bench",
            key_hash=hash_key(token),
            display_prefix=token[:8],
            username="bench-user",
            use_case="benchmark",
        )
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--token", default="sk-bench-1234")
    args = parser.parse_args()
    upgrade_to_head(args.database_url)
    asyncio.run(seed(args.database_url, args.token))


if __name__ == "__main__":
    main()
