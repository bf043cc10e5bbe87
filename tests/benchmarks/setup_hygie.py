"""Prepare a ledger database for the benchmark: schema, a department, a user, and a key.

The benchmark harness sends one fixed bearer token to every target, so the key is stored from
that token (hashed, like any key) instead of being generated.
"""

from __future__ import annotations

import argparse
import asyncio

from billing import directory
from billing.db.database import make_engine
from billing.db.migrate import upgrade_to_head
from billing.directory.use_cases import UseCase, register_use_case
from billing.limits import repo as quota_limits_repo
from billing.periods import PeriodKind
from billing.quotas import Level, NodeLimits
from gateway.steps.api_keys import hash_key
from policies.governance.register import Lifecycle

LEVELS = (
    (Level.ORGANISATION, quota_limits_repo.ORG_NODE),
    (Level.DEPARTMENT, quota_limits_repo.department_node(1)),
    (Level.USER, quota_limits_repo.user_node(1)),
    (Level.KEY, quota_limits_repo.key_node("key_bench")),
)


async def seed(database_url: str, token: str, quota_levels: int) -> None:
    engine = make_engine(database_url)
    try:
        await directory.create_department(engine, "bench", display_name="Benchmark")
        await directory.create_user(engine, "bench-user", department="bench")
        await register_use_case(
            engine, UseCase("benchmark", purpose="Load test", status=Lifecycle.PRODUCTION)
        )
        await directory.store_key(
            engine,
            key_id="key_bench",
            key_hash=hash_key(token),
            display_prefix=token[:8],
            username="bench-user",
            use_case="benchmark",
        )
        # Limits far above what the benchmark reaches: the quota step runs in full (reserve and
        # settle at every level) without ever refusing.
        for level, node in LEVELS[:quota_levels]:
            limits = NodeLimits(
                node_id=node,
                level=level,
                budget_micro_eur=10**12,
                budget_tokens=10**12,
                period=PeriodKind.MONTH,
                rpm=10**7,
                tpm=10**10,
            )
            await quota_limits_repo.save_limits(engine, limits, label=f"bench {level.value}")
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--token", default="sk-bench-1234")
    parser.add_argument("--quota-levels", type=int, default=0, choices=range(5))
    args = parser.parse_args()
    upgrade_to_head(args.database_url)
    asyncio.run(seed(args.database_url, args.token, args.quota_levels))


if __name__ == "__main__":
    main()
