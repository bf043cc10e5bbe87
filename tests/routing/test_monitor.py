"""The background watch: metrics readings, health checks, start and stop."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from gateway.http.local_server import free_port
from gateway.routing.load_signals import VllmLoad
from tests.routing.factories import (
    catalog_of,
    make_router,
    queue_on,
    release,
    replica_at,
    sim_config,
    simulators,
)

pytestmark = pytest.mark.anyio


async def test_a_reading_reports_the_servers_queue_and_our_share(
    session: aiohttp.ClientSession,
) -> None:
    with simulators(sim_config(max_num_seqs=2, inter_token_ms=50)) as (server,):
        catalog = catalog_of({"llama-3-8b": {"d": [server]}, "mistral-7b": {"m": [server]}})
        router = make_router(catalog, session)
        llama, mistral = replica_at(router, server, "d"), replica_at(router, server, "m")
        held = await queue_on(session, server, 5)
        try:
            llama.in_flight = 2  # as if two of them were ours
            await router.monitor(session).poll_metrics()
        finally:
            await release(held)
        assert llama.load is not None and mistral.load is not None
        assert llama.load.load.waiting == 3 and llama.load.load.running == 2
        assert llama.load.load.kv_cache is not None and 0 < llama.load.load.kv_cache < 1
        assert llama.load.in_flight_at_sample == 2
        assert mistral.load.load == VllmLoad(waiting=0, running=0, kv_cache=0.0)
        state = next(s for s in router.replica_states() if s.deployment == "d")
        assert (state.waiting, state.running, state.in_flight, state.healthy) == (3, 2, 2, True)


async def test_background_loops_poll_until_stopped(session: aiohttp.ClientSession) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with simulators(sim_config()) as (server,):
        router = make_router(
            catalog_of({"llama-3-8b": {"d": [server, dead]}}),
            session,
            metrics_interval_s=0.02,
            health_interval_s=0.02,
            unhealthy_after=2,
        )
        live, gone = router.all_replicas()
        monitor = router.monitor(session)
        monitor.start()
        try:
            await asyncio.sleep(0.3)
            first = live.load
            assert first is not None and live.health.healthy
            assert gone.load is None and not gone.health.healthy
            await asyncio.sleep(0.1)
            assert live.load is not None and live.load.taken_at > first.taken_at
        finally:
            await monitor.stop()
        stopped_at = live.load
        await asyncio.sleep(0.1)
        assert live.load is stopped_at
        states = router.replica_states()
        assert [(s.healthy, s.waiting) for s in states] == [(True, 0), (False, None)]
