"""Redis-only behaviour: one hash slot per organisation, processes racing, an unreachable server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from importlib.resources import files

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.crc import key_slot

from billing.periods import PeriodKind, period_containing
from billing.quotas import (
    QuotaStoreUnavailable,
    Refused,
    Reserved,
    ThresholdCrossed,
    decide_on_outage,
)
from billing.quotas.redis_store import OPERATIONS, RedisQuotaStore, load_script
from tests.quotas.conftest import PARIS, REDIS_URL, RedisStores, delete_org_keys
from tests.quotas.factories import T0, at, eur, make_chain, tokens

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

MONTH = period_containing(PeriodKind.MONTH, T0, PARIS)


@pytest.fixture
async def stores(redis_client: Redis, org: str) -> AsyncIterator[RedisStores]:
    """Builds stores of one organisation, each on its own pool (as separate processes would)."""
    built = RedisStores(org)
    yield built
    for store in built.stores:
        await store.close()
    for client in built.clients:
        await client.aclose()


def test_there_is_one_script_per_operation_shipped_as_package_data() -> None:
    shipped = {path.name for path in files("billing.quotas").joinpath("lua").iterdir()}
    assert shipped == {"_common.lua", *(f"{operation}.lua" for operation in OPERATIONS)}
    for operation in OPERATIONS:
        assert "redis.call" in load_script(operation)


async def test_all_keys_of_an_organisation_share_one_hash_slot(
    redis_client: Redis, org: str, stores: RedisStores
) -> None:
    store = stores()
    chain = make_chain(
        key={"rpm": 10, "tpm": 1_000, "max_concurrent": 3},
        user={"budget_tokens": 100, "rolling_window_s": 60},
        organisation={"budget_micro_eur": 1_000},
    )
    await store.reserve("r1", chain, tokens(10), T0)
    await store.reserve("r2", chain, tokens(10), T0)
    await store.settle("r1", tokens(60), at(1))
    await store.rebuild({"org": eur(5)}, MONTH)
    keys = [key async for key in redis_client.scan_iter(match=f"hygie:{{{org}}}:*")]
    assert len(keys) >= 8
    assert {key_slot(key) for key in keys} == {key_slot(f"{{{org}}}".encode())}


async def test_two_processes_racing_never_share_a_threshold_event(stores: RedisStores) -> None:
    first, second = stores(), stores()
    chain = make_chain(
        team={"budget_micro_eur": 2_000, "thresholds_pct": tuple(range(5, 101, 5))},
        organisation={"budget_micro_eur": 2_000},
    )

    async def one(index: int) -> list[ThresholdCrossed]:
        store = first if index % 2 else second
        reserved = await store.reserve(f"r{index}", chain, eur(10), at(index / 100))
        assert isinstance(reserved, Reserved)
        return await store.settle(f"r{index}", eur(10), at(index / 100))

    results = await asyncio.gather(*(one(index) for index in range(200)))
    events = [(event.node_id, event.threshold_pct) for result in results for event in result]
    assert sorted(events) == sorted(
        [("team-radiology", pct) for pct in range(5, 101, 5)]
        + [("org", 50), ("org", 80), ("org", 100)]
    )


async def test_two_processes_racing_never_exceed_the_budget(stores: RedisStores) -> None:
    first, second = stores(), stores()
    chain = make_chain(
        department={"budget_micro_eur": 1_000}, organisation={"budget_micro_eur": 10**6}
    )

    async def one(index: int) -> bool:
        store = first if index % 2 else second
        result = await store.reserve(f"r{index}", chain, eur(300), at(index / 1000))
        if isinstance(result, Refused):
            return False
        await store.settle(f"r{index}", eur(300), at(1))
        return True

    outcomes = await asyncio.gather(*(one(index) for index in range(200)))
    assert (outcomes.count(True), outcomes.count(False)) == (3, 197)
    assert (await first.read("dept-imaging", MONTH, at(2))).committed == eur(900)


async def test_only_finished_reservations_get_a_wall_clock_expiry(
    redis_client: Redis, stores: RedisStores
) -> None:
    store = stores(reservation_ttl_s=30, tombstone_ttl_s=120)
    assert isinstance(store, RedisQuotaStore)
    await store.reserve("held", make_chain(), eur(1), T0)
    await store.reserve("done", make_chain(), eur(1), T0)
    await store.settle("done", eur(1), at(1))
    # A held reservation must outlive any wall-clock gap until purge releases its holds.
    assert await redis_client.ttl(f"{store.prefix}res:held") == -1
    assert 0 < await redis_client.ttl(f"{store.prefix}res:done") <= 120
    await store.read("org", MONTH, at(31))
    assert 0 < await redis_client.ttl(f"{store.prefix}res:held") <= 120


async def test_organisations_do_not_share_counters(redis_client: Redis, org: str) -> None:
    other_org = f"{org}-other"
    ours = RedisQuotaStore(redis_client, org=org, tz=PARIS)
    theirs = RedisQuotaStore(redis_client, org=other_org, tz=PARIS)
    chain = make_chain(organisation={"budget_micro_eur": 100})
    await ours.reserve("r1", chain, eur(100), T0)
    assert isinstance(await theirs.reserve("r1", chain, eur(100), T0), Reserved)
    assert (await ours.read("org", MONTH, T0)).reserved == eur(100)
    await delete_org_keys(redis_client, other_org)
    await ours.close()
    await theirs.close()


async def test_an_unreachable_store_raises_and_the_fail_policy_decides() -> None:
    # A closed port; no retries, so the outage costs no extra latency.
    client = Redis(
        host="127.0.0.1", port=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )
    store = RedisQuotaStore(client, org="unreachable", tz=PARIS)
    budgeted = make_chain(key={"rpm": 10}, organisation={"budget_micro_eur": 1_000})
    rate_only = make_chain(key={"rpm": 10, "max_concurrent": 2}, user={"tpm": 100})
    calls = [
        store.reserve("r1", budgeted, eur(1), T0),
        store.settle("r1", eur(1), T0),
        store.top_up("r1", eur(1), T0),
        store.release("r1"),
        store.rebuild({"org": eur(1)}, MONTH),
        store.read("org", MONTH, T0),
    ]
    for call in calls:
        with pytest.raises(QuotaStoreUnavailable) as raised:
            await call
        assert "127.0.0.1" not in str(raised.value)

    denied = decide_on_outage(budgeted)
    assert (denied.allowed, denied.node_id, denied.reason) == (False, "org", "budget_eur")
    allowed = decide_on_outage(rate_only)
    assert allowed.allowed and allowed.waived == ("rpm", "concurrency", "tpm")
    await store.close()
    await client.aclose()


async def test_scripts_flushed_from_redis_are_loaded_again(
    stores: RedisStores, redis_client: Redis
) -> None:
    store = stores()
    chain = make_chain(organisation={"budget_micro_eur": 100})
    await store.reserve("r1", chain, eur(1), T0)
    await redis_client.script_flush()  # as after a Redis restart or a failover
    assert isinstance(await store.reserve("r2", chain, eur(1), T0), Reserved)
    assert (await store.read("org", MONTH, T0)).reserved == eur(2)


async def test_a_late_reply_is_never_read_as_the_answer_to_the_next_call(
    org: str, redis_client: Redis
) -> None:
    client = Redis.from_url(REDIS_URL, socket_timeout=0.1)  # the scripts' reply timeout too
    store = RedisQuotaStore(client, org=org, tz=PARIS)
    chain = make_chain(organisation={"budget_micro_eur": 100})
    await store.reserve("r1", chain, eur(1), T0)
    await redis_client.client_pause(300)  # Redis holds every command for 0.3 s
    with pytest.raises(QuotaStoreUnavailable):
        await store.reserve("r2", chain, eur(1), T0)
    await asyncio.sleep(0.4)
    # The connection that waited for r2 was closed: whether Redis still ran r2 or dropped it
    # with that connection, its reply cannot be taken for the answer to this read.
    assert (await store.read("org", MONTH, T0)).reserved in (eur(1), eur(2))
    await store.close()
    await client.aclose()
