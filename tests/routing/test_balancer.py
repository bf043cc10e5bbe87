"""Load score, vLLM-aware choice, affinity and the fall back to least outstanding requests."""

from __future__ import annotations

import aiohttp
import pytest

from gateway.catalog import Deployment
from gateway.routing.affinity import preferred_replica
from gateway.routing.balancer import LoadAwarePicker, load_score
from gateway.routing.load_signals import LoadSample, VllmLoad
from gateway.routing.options import RoutingOptions
from gateway.routing.replicas import Replica
from gateway.routing.router import Attempts
from tests.routing.factories import (
    FakeClock,
    catalog_of,
    chat,
    chat_requests,
    make_router,
    queue_on,
    reconfigure,
    release,
    replica_at,
    sim_config,
    simulators,
)

pytestmark = pytest.mark.anyio

OPTIONS = RoutingOptions()


def sampled(
    in_flight: int,
    load: VllmLoad,
    *,
    at_sample: int,
    taken_at: float = 0.0,
    capacity: float | None = None,
) -> Replica:
    replica = Replica(Deployment(name="d", replicas=("http://h/v1",)), "http://h/v1", "m")
    replica.in_flight = in_flight
    replica.load = LoadSample(load, taken_at, at_sample, capacity)
    return replica


def test_score_counts_other_clients_queueing_and_kv_cache() -> None:
    # 3 requests from other clients, half the KV cache: 2 + 3 + 4 x 0.5.
    busy_cache = sampled(2, VllmLoad(waiting=0, running=5, kv_cache=0.5), at_sample=2)
    assert load_score(busy_cache, 0.0, OPTIONS) == 7.0
    # 4 slots, 6 requests of which 4 ours; one of ours ended since: 5 there, 1 queued (x 2).
    full = VllmLoad(waiting=2, running=4, kv_cache=None)
    assert load_score(sampled(3, full, at_sample=4, capacity=4), 0.0, OPTIONS) == 5 + 2 * 1
    # Three more of ours since: they queue at once, before the next reading shows it.
    assert load_score(sampled(7, full, at_sample=4, capacity=4), 0.0, OPTIONS) == 9 + 2 * 5
    # Never seen full: no slot count known, nothing counts as queued.
    idle = VllmLoad(waiting=0, running=4, kv_cache=None)
    assert load_score(sampled(9, idle, at_sample=4), 0.0, OPTIONS) == 9


def test_missing_or_stale_metrics_compare_in_flight_only() -> None:
    idle_but_stale = sampled(1, VllmLoad(0, 0, 0.0), at_sample=1, taken_at=-10.0)
    loaded = sampled(0, VllmLoad(waiting=9, running=9, kv_cache=1.0), at_sample=0)
    no_metrics = Replica(Deployment(name="d", replicas=("http://h/v1",)), "http://x/v1", "m")
    picker = LoadAwarePicker(OPTIONS)
    assert load_score(idle_but_stale, 0.0, OPTIONS) is None
    assert picker.scores([idle_but_stale, loaded], 0.0) == [1.0, 0.0]
    assert picker.pick([idle_but_stale, loaded], None, 0.0) is loaded
    assert picker.scores([loaded, no_metrics], 0.0) == [0.0, 0.0]


async def test_replica_queueing_other_clients_work_is_avoided(
    session: aiohttp.ClientSession,
) -> None:
    with simulators(sim_config(max_num_seqs=1, inter_token_ms=50), sim_config(), sim_config()) as (
        busy,
        a,
        b,
    ):
        router = make_router(catalog_of({"llama-3-8b": {"d": [busy, a, b]}}), session)
        held = await queue_on(session, busy, 3)  # 1 running, 2 waiting: not ours
        try:
            await router.monitor(session).poll_metrics()
            assert replica_at(router, busy).load is not None
            for _ in range(9):
                await router.complete(chat(), router.all_replicas(), Attempts())
            # Least outstanding requests alone would have sent it every third request.
            assert await chat_requests(session, busy) == 3  # only the other client's
            assert await chat_requests(session, a) + await chat_requests(session, b) == 9
        finally:
            await release(held)


async def test_affinity_holds_until_the_replica_is_overloaded(
    session: aiohttp.ClientSession,
) -> None:
    with simulators(sim_config(), sim_config(), sim_config()) as servers:
        router = make_router(catalog_of({"llama-3-8b": {"d": servers}}), session)
        replicas = router.all_replicas()
        monitor = router.monitor(session)
        key = "conversation-42"
        home = preferred_replica(replicas, key)
        home_server = next(s for s in servers if f"{s.url}/v1" == home.base_url)
        await monitor.poll_metrics()
        for _ in range(6):
            _, replica = await router.complete(chat(), replicas, Attempts(), affinity_key=key)
            assert replica is home

        await reconfigure(session, home_server, max_num_seqs=2, inter_token_ms=50)
        held = await queue_on(session, home_server, 1)  # score 1: within the slack of 3
        try:
            await monitor.poll_metrics()
            _, replica = await router.complete(chat(), replicas, Attempts(), affinity_key=key)
            assert replica is home
            held += await queue_on(session, home_server, 5)  # 2 running, 4 waiting: 6 + 2 x 4
            await monitor.poll_metrics()
            for _ in range(3):
                _, replica = await router.complete(chat(), replicas, Attempts(), affinity_key=key)
                assert replica is not home
        finally:
            await release(held, session, home_server)
        await monitor.poll_metrics()
        _, replica = await router.complete(chat(), replicas, Attempts(), affinity_key=key)
        assert replica is home


async def test_stale_metrics_degrade_to_least_outstanding(session: aiohttp.ClientSession) -> None:
    clock = FakeClock()
    with simulators(sim_config(max_num_seqs=1, inter_token_ms=50), sim_config()) as (busy, idle):
        router = make_router(catalog_of({"llama-3-8b": {"d": [busy, idle]}}), session, clock=clock)
        replicas = router.all_replicas()
        held = await queue_on(session, busy, 3)
        try:
            await router.monitor(session).poll_metrics()
            for _ in range(4):
                _, replica = await router.complete(chat(), replicas, Attempts())
                assert replica is replica_at(router, idle)
        finally:
            await release(held)
        clock.advance(OPTIONS.metrics_stale_after_s + 0.1)
        assert replica_at(router, busy).load is not None  # the old reading says "queueing"
        chosen = [(await router.complete(chat(), replicas, Attempts()))[1] for _ in range(4)]
        assert chosen.count(replica_at(router, busy)) == 2  # in turn, as load is unknown
