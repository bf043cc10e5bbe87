"""Passive ejection (growing, never all at once) and active health checks, on real replicas."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp
import pytest

from gateway.errors import NoDeploymentAvailable, UpstreamError
from gateway.http.local_server import BackgroundServer, free_port
from gateway.routing.blame import signals_bad_request
from gateway.routing.router import Attempts
from hygie_simulator import create_simulator_app
from tests.routing.factories import (
    FakeClock,
    FirstPicker,
    catalog_of,
    chat,
    chat_requests,
    make_router,
    reconfigure,
    replica_at,
    sim_config,
    simulators,
)

pytestmark = pytest.mark.anyio

ALWAYS_503 = {"http_503": 1.0}
CAPTURES = Path(__file__).parents[1] / "fixtures" / "vllm_captures"


async def test_ejection_grows_from_base_doubling_up_to_the_cap(
    session: aiohttp.ClientSession,
) -> None:
    clock = FakeClock()
    with simulators(sim_config(faults=ALWAYS_503), sim_config()) as (bad, good):
        router = make_router(
            catalog_of({"llama-3-8b": {"d": [bad, good]}}),
            session,
            picker=FirstPicker(),
            clock=clock,
            eject_after_failures=3,
            ejection_base_s=10,
            ejection_max_s=50,
        )
        failing, healthy = replica_at(router, bad), replica_at(router, good)
        pool = [failing, healthy]  # the failing one first: its 503s are served by the other
        for _ in range(3):
            _, served = await router.complete(chat(), pool, Attempts())
            assert served is healthy
        durations = [failing.health.ejected_until - clock.now]
        for _ in range(3):
            with pytest.raises(NoDeploymentAvailable) as refused:
                await router.complete(chat(), [failing], Attempts())
            assert refused.value.headers() == {"retry-after": str(round(durations[-1]))}
            clock.advance(durations[-1])
            await router.complete(chat(), pool, Attempts())  # on probation: one failure ejects
            durations.append(failing.health.ejected_until - clock.now)
        assert durations == [10, 20, 40, 50]
        assert await chat_requests(session, bad) == 3 + 3  # nothing sent while ejected

        [state] = [s for s in router.replica_states() if s.base_url == failing.base_url]
        assert state.ejected_until == pytest.approx(time.time() + 50, abs=2)

        await reconfigure(session, bad, faults={"http_503": 0.0})
        clock.advance(50)
        await router.complete(chat(), [failing], Attempts())
        assert (failing.health.ejections, failing.health.on_probation) == (0, False)
        await reconfigure(session, bad, faults=ALWAYS_503)
        await router.complete(chat(), pool, Attempts())
        assert failing.health.available(clock.now)  # one failure after a success is not enough


async def test_never_every_replica_of_a_deployment_is_ejected(
    session: aiohttp.ClientSession,
) -> None:
    clock = FakeClock()
    dead = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
    router = make_router(
        catalog_of({"llama-3-8b": {"d": dead}}), session, clock=clock, eject_after_failures=2
    )
    replicas = router.all_replicas()
    for _ in range(10):
        attempts = Attempts()
        with pytest.raises(UpstreamError) as failed:  # a real answer, never "none available"
            await router.complete(chat(), replicas, attempts)
        assert not isinstance(failed.value, NoDeploymentAvailable)
        assert attempts.count >= 1
        assert sum(r.health.ejected(clock.now) for r in replicas) <= 1
        clock.advance(1)
    assert sum(r.health.ejected(clock.now) for r in replicas) == 1


async def test_failures_caused_by_the_input_never_eject_a_replica(
    session: aiohttp.ClientSession,
) -> None:
    clock = FakeClock()
    with simulators(sim_config(), sim_config()) as servers:
        router = make_router(
            catalog_of({"llama-3-8b": {"d": servers}}), session, clock=clock, eject_after_failures=2
        )
        replicas = router.all_replicas()
        for _ in range(4):  # a 5xx every replica gives for this input
            attempts = Attempts()
            with pytest.raises(UpstreamError):
                await router.complete(chat(sim_fault="http_500"), replicas, attempts)
            assert attempts.count == 2
        for _ in range(2):  # the same for a stream
            with pytest.raises(UpstreamError):
                await router.open_stream(
                    chat(stream=True, sim_fault="http_500"), replicas, Attempts()
                )
        for _ in range(4):  # a bad parameter: vLLM's 400, returned as it is
            reply, _ = await router.complete(chat(temperature=-1), replicas, Attempts())
            assert reply.status == 400
        assert all(r.health.available(clock.now) for r in replicas)
        assert all(r.health.consecutive_failures == 0 for r in replicas)
        _, served = await router.complete(chat(), replicas, Attempts())
        assert served in replicas


@pytest.mark.parametrize(
    ("capture", "bad_request"),
    [
        ("err_bad_temperature.body", True),
        ("err_max_tokens.body", True),
        ("err_prompt_too_long.body", True),
        ("err_unknown_model.body", True),  # a 4xx code: the request named no such model
    ],
)
def test_a_server_error_body_saying_bad_request_is_the_inputs_fault(
    capture: str, bad_request: bool
) -> None:
    payload = (CAPTURES / capture).read_bytes()
    assert signals_bad_request(payload) is bad_request
    crash = b'{"error":{"message":"EngineCore died","type":"InternalServerError","code":500}}'
    assert not signals_bad_request(crash) and not signals_bad_request(b"<html>")


async def test_health_checks_take_a_replica_out_and_bring_it_back(
    session: aiohttp.ClientSession,
) -> None:
    flaky = BackgroundServer(create_simulator_app(sim_config()), graceful_shutdown_s=1).start()
    try:
        with simulators(sim_config()) as (steady,):
            router = make_router(
                catalog_of({"llama-3-8b": {"d": [flaky, steady]}}),
                session,
                unhealthy_after=2,
                health_interval_s=7,
            )
            monitor = router.monitor(session)
            down = replica_at(router, flaky)
            flaky.stop()
            await monitor.check_health()
            assert down.health.healthy  # one failed check is not enough
            await monitor.check_health()
            assert not down.health.healthy
            assert [s.healthy for s in router.replica_states()] == [False, True]

            for _ in range(4):
                attempts = Attempts()
                _, replica = await router.complete(chat(), router.all_replicas(), attempts)
                assert replica is replica_at(router, steady) and attempts.count == 1
            with pytest.raises(NoDeploymentAvailable) as refused:
                await router.open_stream(chat(stream=True), [down], Attempts())
            assert refused.value.status == 503 and refused.value.headers() == {"retry-after": "7"}

            flaky = BackgroundServer(
                create_simulator_app(sim_config()), port=flaky.port, graceful_shutdown_s=1
            ).start()
            await monitor.check_health()
            assert down.health.healthy
            _, replica = await router.complete(chat(), [down], Attempts())
            assert replica is down
    finally:
        flaky.stop()
