"""Quotas hold across gateway processes that share Redis, and survive a Redis outage."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from tests.cluster.conftest import ADMIN, Cluster, PrivateRedis, wait_for_limits, wait_in_sync
from tests.conftest import CHAT_MODEL

pytestmark = pytest.mark.slow  # real gateway processes, PostgreSQL and Redis

MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "Liste les examens d'un bilan pré-opératoire."}
]


async def fire(urls: list[str], key: str, count: int, *, stream_every: int = 2) -> list[int]:
    """Send ``count`` requests spread over ``urls`` at once; return the HTTP statuses."""
    clients = [openai.AsyncOpenAI(base_url=f"{u}/v1", api_key=key, max_retries=0) for u in urls]

    async def one(i: int) -> int:
        client = clients[i % len(clients)]
        try:
            if i % stream_every == 0:
                stream = await client.chat.completions.create(
                    model=CHAT_MODEL, messages=MESSAGES, max_tokens=6, stream=True
                )
                async for _ in stream:
                    pass
            else:
                await client.chat.completions.create(
                    model=CHAT_MODEL, messages=MESSAGES, max_tokens=6
                )
            return 200
        except openai.APIStatusError as error:
            return error.status_code

    try:
        return list(await asyncio.gather(*(one(i) for i in range(count))))
    finally:
        for client in clients:
            await client.close()


def test_two_gateways_share_budget_and_rate_limits(start_cluster: Callable[[int], Cluster]) -> None:
    cluster = start_cluster(2)
    a, b = cluster.gateways
    budget = httpx.put(
        f"{a.url}/admin/quotas",
        headers=ADMIN,
        json={
            "level": "department",
            "department": "cardiologie",
            "budget_eur": "0.5",
            "period": "month",
        },
    )
    assert budget.status_code == 200
    rate = httpx.put(
        f"{b.url}/admin/quotas",
        headers=ADMIN,
        json={"level": "user", "username": "dr.test", "rpm": 12},
    )
    assert rate.status_code == 200
    wait_for_limits(cluster, {"department": "budget_eur", "user": "rpm"})

    statuses = asyncio.run(fire([a.url, b.url], cluster.key, 60))
    served = statuses.count(200)
    # GCRA: a burst of 12, then 12 per minute: at most one more during this short run.
    assert 1 <= served <= 13, statuses
    assert set(statuses) <= {200, 429}

    wait_in_sync(a.url)  # once the other gateway's ledger writer has flushed
    rows = httpx.get(f"{a.url}/admin/quotas", headers=ADMIN).json()["data"]
    [department] = [r for r in rows if r["level"] == "department"]
    assert Decimal(department["spent_eur"]) <= Decimal("0.5")


def test_budget_holds_across_gateways_under_concurrency(
    start_cluster: Callable[[int], Cluster],
) -> None:
    cluster = start_cluster(2)
    a, b = cluster.gateways
    httpx.put(
        f"{a.url}/admin/quotas",
        headers=ADMIN,
        json={
            "level": "department",
            "department": "cardiologie",
            "budget_eur": "0.3",
            "period": "day",
        },
    ).raise_for_status()
    wait_for_limits(cluster, {"department": "budget_eur"})
    statuses = asyncio.run(fire([a.url, b.url], cluster.key, 120))
    assert 200 in statuses and 429 in statuses
    wait_in_sync(b.url)
    rows = httpx.get(f"{b.url}/admin/quotas", headers=ADMIN).json()["data"]
    [department] = rows
    assert Decimal(department["spent_eur"]) <= Decimal("0.3")


def test_redis_outage_applies_fail_modes_and_counters_are_rebuilt(
    start_cluster: Callable[[int], Cluster], private_redis: PrivateRedis
) -> None:
    cluster = start_cluster(1)
    [gw] = cluster.gateways
    httpx.put(
        f"{gw.url}/admin/quotas",
        headers=ADMIN,
        json={
            "level": "department",
            "department": "cardiologie",
            "budget_eur": "100",
            "period": "month",
        },
    ).raise_for_status()
    wait_for_limits(cluster, {"department": "budget_eur"})
    client = openai.OpenAI(base_url=f"{gw.url}/v1", api_key=cluster.key, max_retries=0)
    ids = []
    try:
        raw = client.chat.completions.with_raw_response.create(
            model=CHAT_MODEL, messages=MESSAGES, max_tokens=3
        )
        ids.append(raw.headers["x-request-id"])

        private_redis.stop()
        try:  # a hard budget fails closed by default
            client.chat.completions.create(model=CHAT_MODEL, messages=MESSAGES, max_tokens=3)
            raise AssertionError("the request should have been refused")
        except openai.APIStatusError as error:
            assert error.status_code == 503
            assert error.body["code"] == "quota_service_unavailable"  # type: ignore[index]
            ids.append(error.response.headers["x-request-id"])

        # A rate limit fails open: switch the department to a rate limit only.
        httpx.put(
            f"{gw.url}/admin/quotas",
            headers=ADMIN,
            json={"level": "department", "department": "cardiologie", "rpm": 100},
        ).raise_for_status()
        raw = client.chat.completions.with_raw_response.create(
            model=CHAT_MODEL, messages=MESSAGES, max_tokens=3
        )
        ids.append(raw.headers["x-request-id"])

        private_redis.start()  # a new, empty Redis: counters must come back from the ledger
        httpx.put(
            f"{gw.url}/admin/quotas",
            headers=ADMIN,
            json={
                "level": "department",
                "department": "cardiologie",
                "budget_eur": "100",
                "period": "month",
            },
        ).raise_for_status()
        reconcile = httpx.get(f"{gw.url}/admin/quotas/reconcile", headers=ADMIN).json()
        assert reconcile["in_sync"], reconcile
        assert reconcile["data"][0]["ledger_micro_eur"] > 0
    finally:
        client.close()
    metrics = httpx.get(f"{gw.url}/metrics").text
    assert 'hygie_quota_refusals_total{scope="unavailable"} 1.0' in metrics
    ledger = httpx.get(f"{gw.url}/admin/ledger", headers=ADMIN, params={"limit": 10}).json()["data"]
    assert {row["request_id"] for row in ledger} == set(ids)  # nothing lost, nothing doubled
