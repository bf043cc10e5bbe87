"""The retry budget: a sliding cap on retries, and the 503 once it is spent."""

from __future__ import annotations

import aiohttp
import pytest

from gateway.errors import NoDeploymentAvailable, error_response
from gateway.routing.options import RoutingOptions
from gateway.routing.retry_budget import RetryBudget
from gateway.routing.router import Attempts
from tests.routing.factories import (
    FakeClock,
    FirstPicker,
    catalog_of,
    chat,
    chat_requests,
    make_router,
    replica_at,
    sim_config,
    simulators,
)


def test_retries_are_capped_at_a_share_of_requests_plus_a_floor() -> None:
    clock = FakeClock()
    options = RoutingOptions(retry_ratio=0.2, retry_min_per_s=0.1, retry_window_s=10)
    budget = RetryBudget(options, clock)
    for _ in range(10):
        budget.record_request()
        clock.advance(1 / 32)  # exact in binary, so the second boundaries are exact
    # 0.2 x 10 requests + 0.1/s x 10 s = 3 retries in the window.
    assert [budget.try_spend() for _ in range(4)] == [True, True, True, False]
    assert budget.retry_after_s() == 10  # their bucket leaves the window in 9.6875 s
    clock.advance(9)
    assert not budget.try_spend() and budget.retry_after_s() == 1
    clock.advance(0.6875)
    assert budget.try_spend()  # the old requests and retries have left the window


@pytest.mark.anyio
async def test_spent_budget_answers_503_with_retry_after(session: aiohttp.ClientSession) -> None:
    with simulators(sim_config(faults={"http_503": 1.0}), sim_config()) as (bad, good):
        router = make_router(
            catalog_of({"llama-3-8b": {"d": [bad, good]}}),
            session,
            picker=FirstPicker(),  # the failing replica first, every time
            clock=FakeClock(),
            eject_after_failures=100,
            retry_ratio=0.0,
            retry_min_per_s=0.1,  # one retry per 10 s window
            retry_window_s=10,
        )
        replicas = [replica_at(router, bad), replica_at(router, good)]
        first = Attempts()
        _, replica = await router.complete(chat(), replicas, first)
        assert replica is replicas[1] and first.tried == [r.label for r in replicas]

        second = Attempts()
        with pytest.raises(NoDeploymentAvailable) as refused:
            await router.complete(chat(), replicas, second)
        assert second.tried == [replicas[0].label] and len(second.failures) == 1
        response = error_response(refused.value)
        assert response.status_code == 503 and response.headers["retry-after"] == "10"
        assert b'"code":"no_deployment_available"' in response.body
        assert "retry budget" in refused.value.message
        assert await chat_requests(session, good) == 1
