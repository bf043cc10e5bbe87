"""Quota reservations in the request path: refused before the upstream, settled after it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.backends.fake import error_answer
from tests.gateway.pipeline.harness import ADMIN, InProcessGateway

pytestmark = pytest.mark.anyio


@pytest.fixture
def gw(fresh_gw: InProcessGateway) -> InProcessGateway:
    """Quotas outlive a test: each one gets a gateway of its own."""
    return fresh_gw


async def monthly(gw: InProcessGateway, **budget: Any) -> None:
    """A monthly budget for the key's department."""
    await gw.set_quota(level="department", department="cardiologie", period="month", **budget)


async def department(gw: InProcessGateway) -> dict[str, Any]:
    response = await gw.client.get("/admin/quotas", headers=ADMIN)
    [node] = [n for n in response.json()["data"] if n["level"] == "department"]
    return dict(node)


async def settled(gw: InProcessGateway, *, spent: bool = True) -> dict[str, Any]:
    """The department's figures once nothing is held any more (and, with ``spent``, something
    was spent)."""
    for _ in range(200):
        node = await department(gw)
        if node["reserved_tokens"] == 0 and (node["spent_tokens"] or not spent):
            return node
        await asyncio.sleep(0.01)
    raise AssertionError(node)


async def test_a_request_over_budget_is_refused_before_the_upstream(gw: InProcessGateway) -> None:
    await gw.set_quota(
        level="department", department="cardiologie", budget_tokens=10, period="month"
    )
    response = await gw.chat(max_tokens=50)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "insufficient_quota"
    assert gw.fakes["onprem"].sent == []
    [record] = await gw.records(response.headers["x-request-id"])
    assert record.status_code == 429 and record.attempts == 0 and record.prompt_tokens == 0


async def test_the_reservation_is_settled_to_what_the_upstream_reported(
    gw: InProcessGateway,
) -> None:
    await gw.set_quota(
        level="department", department="cardiologie", budget_eur="10", period="month"
    )
    response = await gw.chat(max_tokens=100)
    assert response.status_code == 200, response.text
    node = await settled(gw)
    assert node["spent_tokens"] == 9  # 7 prompt + 2 completion tokens, as the fake said


async def test_a_failed_upstream_releases_the_hold_and_spends_nothing(
    gw: InProcessGateway,
) -> None:
    await gw.set_quota(
        level="department", department="cardiologie", budget_eur="10", period="month"
    )
    gw.fakes["onprem"].then(error_answer(503, "down"), error_answer(503, "down"))
    response = await gw.chat(max_tokens=1000)
    assert response.status_code == 502
    [record] = await gw.records(response.headers["x-request-id"])
    node = await settled(gw, spent=False)  # settled: the 5xx answers generated nothing
    assert node["spent_tokens"] == record.prompt_tokens + record.completion_tokens == 0


async def test_a_rate_limit_answers_429_with_retry_after(gw: InProcessGateway) -> None:
    await gw.set_quota(level="department", department="cardiologie", rpm=1)
    assert (await gw.chat()).status_code == 200
    refused = await gw.chat()
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"]["code"] == "rate_limit_exceeded"
    assert len(gw.fakes["onprem"].sent) == 1


async def test_concurrent_requests_never_overspend_the_budget(gw: InProcessGateway) -> None:
    # Each request holds its worst case (prompt bound + 20 tokens); only some fit.
    await gw.set_quota(
        level="department", department="cardiologie", budget_tokens=300, period="month"
    )
    responses = await asyncio.gather(*(gw.chat(max_tokens=20) for _ in range(12)))
    statuses = [r.status_code for r in responses]
    assert set(statuses) == {200, 429}
    assert len(gw.fakes["onprem"].sent) == statuses.count(200)
    node = await settled(gw)
    assert node["spent_tokens"] <= 300
