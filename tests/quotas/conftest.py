"""Fixtures of the quota suite: every behavioural test runs against both backends.

Redis tests use redis://127.0.0.1:6379/15 with a unique organisation per test (so a unique key
prefix) and delete their own keys afterwards; other suites may share database 15, so nothing is
flushed wholesale. When Redis is unreachable the Redis half is skipped, or fails on CI.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from zoneinfo import ZoneInfo

import pytest
from redis import exceptions as redis_errors
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from billing.quotas import MemoryQuotaStore
from billing.quotas.redis_store import RedisQuotaStore
from billing.quotas.store import QuotaStore

REDIS_URL = "redis://127.0.0.1:6379/15"
PARIS = ZoneInfo("Europe/Paris")

StoreFactory = Callable[..., QuotaStore]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def new_client() -> Redis:
    """A client on its own pool (separate connections), bounded so 200 tasks share 16 sockets."""
    # No retries: an unreachable server is reported at once instead of after ~4 s of backoff.
    pool = BlockingConnectionPool.from_url(
        REDIS_URL,
        max_connections=16,
        timeout=5,
        socket_connect_timeout=1,
        retry=Retry(NoBackoff(), 0),
    )
    return Redis.from_pool(pool)


async def _reachable(client: Redis) -> None:
    try:
        await client.ping()
    except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as exc:
        await client.aclose()
        reason = f"Redis not reachable at {REDIS_URL}: {type(exc).__name__}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def org() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def redis_client(org: str) -> AsyncIterator[Redis]:
    client = new_client()
    await _reachable(client)
    yield client
    await delete_org_keys(client, org)
    await client.aclose()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def make_store(request: pytest.FixtureRequest, org: str) -> AsyncIterator[StoreFactory]:
    """``make_store(reservation_ttl_s=...)`` builds a store of the parametrised backend.

    Redis stores built in one test share the organisation, hence the counters, as two gateway
    processes would, each on its own connections; memory stores share nothing.
    """
    if request.param == "memory":

        def memory(**kwargs: int) -> QuotaStore:
            return MemoryQuotaStore(tz=PARIS, **kwargs)

        yield memory
        return
    probe = new_client()
    await _reachable(probe)
    stores = RedisStores(org)
    yield stores
    await delete_org_keys(probe, org)
    for store in stores.stores:
        await store.close()
    for client in [probe, *stores.clients]:
        await client.aclose()


class RedisStores:
    """Builds Redis stores of one organisation, each on its own connection pool."""

    def __init__(self, org: str) -> None:
        self.org = org
        self.clients: list[Redis] = []
        self.stores: list[RedisQuotaStore] = []

    def __call__(self, **kwargs: int) -> QuotaStore:
        client = new_client()
        self.clients.append(client)
        store = RedisQuotaStore(client, org=self.org, tz=PARIS, **kwargs)
        self.stores.append(store)
        return store


async def delete_org_keys(client: Redis, org: str) -> None:
    keys = [key async for key in client.scan_iter(match=f"hygie:{{{org}}}:*", count=1000)]
    if keys:
        await client.delete(*keys)
