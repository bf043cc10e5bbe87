"""Budgets, rate limits and alerts through the real gateway, on both counter backends."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from billing.money import from_micros
from gateway.catalog import parse_catalog
from gateway.http.local_server import BackgroundServer
from tests.conftest import CHAT_MODEL, HEALTH_CLEARED, GatewayFactory, RunningGateway
from tests.polling import wait_until
from tests.services import redis_url

ADMIN = {"Authorization": "Bearer admin-test-token"}
MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "Propose un plan de soins infirmiers."}
]
# 1,000 EUR per million tokens: one token costs 1,000 micro-euros (0.001 EUR).
PRICES = {CHAT_MODEL: {"input": "1000", "output": "1000"}}


def priced_catalog(simulator_url: str) -> Any:
    return parse_catalog(
        {
            "models": [
                {
                    "name": CHAT_MODEL,
                    "deployments": [
                        {
                            "name": "sim",
                            "replicas": [f"{simulator_url}/v1"],
                            "hosting": HEALTH_CLEARED,
                        }
                    ],
                }
            ],
            "prices": PRICES,
        }
    )


def start_on_backend(
    backend: str, catalog: Any, start_gateway: GatewayFactory, sqlite_url: str
) -> RunningGateway:
    """A gateway whose quota counters are in memory or on Redis (a database of their own,
    flushed: 14 unless ``HYGIE_TEST_REDIS_FLUSH_DB`` names another)."""
    settings: dict[str, Any] = {"quota_refresh_s": 0.2}
    if backend == "redis":
        url = redis_url(db=int(os.environ.get("HYGIE_TEST_REDIS_FLUSH_DB", "14")))
        import redis

        redis.Redis.from_url(url).flushdb()
        settings["redis_url"] = url
    return start_gateway(catalog, sqlite_url, **settings)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def quota_gateway(
    request: pytest.FixtureRequest,
    simulator: BackgroundServer,
    start_gateway: GatewayFactory,
    sqlite_url: str,
) -> RunningGateway:
    return start_on_backend(request.param, priced_catalog(simulator.url), start_gateway, sqlite_url)


def set_quota(gw: RunningGateway, **spec: Any) -> dict[str, Any]:
    response = httpx.put(f"{gw.url}/admin/quotas", headers=ADMIN, json=spec)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_concurrent_requests_never_overspend_the_budget(quota_gateway: RunningGateway) -> None:
    gw = quota_gateway
    set_quota(gw, level="department", department="cardiologie", budget_eur="0.25", period="month")

    async def run() -> list[tuple[int, str | None, str | None]]:
        client = openai.AsyncOpenAI(base_url=gw.base_url, api_key=gw.key, max_retries=0)

        async def one(i: int) -> tuple[int, str | None, str | None]:
            try:
                if i % 2:
                    stream = await client.chat.completions.create(
                        model=CHAT_MODEL, messages=MESSAGES, max_tokens=8, stream=True
                    )
                    async for _ in stream:
                        pass
                else:
                    await client.chat.completions.create(
                        model=CHAT_MODEL, messages=MESSAGES, max_tokens=8
                    )
                return 200, None, None
            except openai.RateLimitError as error:
                body = error.body if isinstance(error.body, dict) else {}
                return 429, body.get("code"), error.response.headers.get("x-should-retry")

        try:
            return await asyncio.gather(*(one(i) for i in range(200)))
        finally:
            await client.close()

    outcomes = asyncio.run(run())
    served = [o for o in outcomes if o[0] == 200]
    refused = [o for o in outcomes if o[0] == 429]
    assert served and refused and len(served) + len(refused) == 200
    assert all(code == "insufficient_quota" and retry == "false" for _, code, retry in refused)
    listed = httpx.get(f"{gw.url}/admin/quotas", headers=ADMIN).json()["data"]
    [department] = [row for row in listed if row["level"] == "department"]
    assert Decimal(department["spent_eur"]) <= Decimal("0.25")
    assert Decimal(department["reserved_eur"]) == 0
    reconcile = httpx.get(f"{gw.url}/admin/quotas/reconcile", headers=ADMIN).json()
    assert reconcile["in_sync"], reconcile
    ledger_total = sum(
        r["ledger_micro_eur"] for r in reconcile["data"] if r["node_id"].startswith("department")
    )
    assert from_micros(ledger_total) == Decimal(department["spent_eur"])


def test_rate_limit_answers_429_with_retry_after_and_headers(quota_gateway: RunningGateway) -> None:
    gw = quota_gateway
    set_quota(gw, level="user", username="dr.test", rpm=3)
    client = gw.sdk()
    first = client.chat.completions.with_raw_response.create(
        model=CHAT_MODEL, messages=MESSAGES, max_tokens=2
    )
    assert first.headers["x-ratelimit-limit-requests"] == "3"
    assert first.headers["x-ratelimit-remaining-requests"] == "2"
    assert first.headers["x-ratelimit-reset-requests"].endswith("s")
    client.chat.completions.create(model=CHAT_MODEL, messages=MESSAGES, max_tokens=2)
    client.chat.completions.create(model=CHAT_MODEL, messages=MESSAGES, max_tokens=2)
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model=CHAT_MODEL, messages=MESSAGES, max_tokens=2)
    response = caught.value.response
    assert caught.value.body["code"] == "rate_limit_exceeded"  # type: ignore[index]
    assert "your account" in caught.value.message
    assert 1 <= int(response.headers["retry-after"]) <= 60


def test_me_shows_own_limits_and_consumption(quota_gateway: RunningGateway) -> None:
    gw = quota_gateway
    set_quota(
        gw, level="department", department="cardiologie", budget_eur="10", period="month", rpm=100
    )
    gw.sdk().chat.completions.create(model=CHAT_MODEL, messages=MESSAGES, max_tokens=4)
    me = httpx.get(f"{gw.base_url}/me", headers={"Authorization": f"Bearer {gw.key}"}).json()
    assert me["user"] == "dr.test" and me["department"] == "cardiologie"
    [department] = me["limits"]
    assert department["level"] == "department" and department["budget_eur"] == "10.00"
    spent = Decimal(department["spent_eur"])
    assert spent > 0 or Decimal(department["reserved_eur"]) >= 0
    assert Decimal(department["remaining_eur"]) <= Decimal(10)


@pytest.fixture
def webhook() -> Iterator[tuple[BackgroundServer, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    attempts = {"n": 0}

    async def hook(request: Request) -> Response:
        attempts["n"] += 1
        if attempts["n"] == 1:
            return Response(status_code=503)  # the first delivery fails: it must be retried
        received.append(await request.json())
        return Response(status_code=204)

    with BackgroundServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as server:
        yield server, received


def test_thresholds_alert_once_each_and_reach_the_webhook(
    simulator: BackgroundServer, start_gateway: GatewayFactory, sqlite_url: str, webhook: Any
) -> None:
    server, received = webhook
    gw = start_gateway(
        priced_catalog(simulator.url),
        sqlite_url,
        quota_refresh_s=0.2,
        alert_webhook_url=f"{server.url}/hook",
    )
    set_quota(
        gw,
        level="department",
        department="cardiologie",
        budget_eur="0.2",
        period="day",
        thresholds_pct=[10, 20, 40],
    )
    client = gw.sdk()
    for _ in range(15):
        try:
            client.chat.completions.create(model=CHAT_MODEL, messages=MESSAGES, max_tokens=8)
        except openai.RateLimitError:
            time.sleep(0.05)  # a hold may outlive its request by a few ms
    # The first webhook delivery fails and is retried after 2 s.
    wait_until(lambda: len(received) >= 3, timeout_s=10, message="three alerts delivered")
    alerts = httpx.get(f"{gw.url}/admin/alerts", headers=ADMIN).json()["data"]
    assert sorted(a["threshold_pct"] for a in alerts) == [10, 20, 40]  # once each
    assert {a["label"] for a in alerts} == {"department cardiologie"}
    assert sorted(r["threshold_pct"] for r in received) == [10, 20, 40]


def test_department_admin_cannot_set_another_departments_quota(
    quota_gateway: RunningGateway,
) -> None:
    gw = quota_gateway
    base = f"{gw.url}/admin"
    httpx.post(f"{base}/departments", headers=ADMIN, json={"name": "pharmacie"})
    httpx.post(
        f"{base}/users",
        headers=ADMIN,
        json={"username": "chef.pharma", "department": "pharmacie", "role": "department_admin"},
    )
    key = httpx.post(f"{base}/keys", headers=ADMIN, json={"username": "chef.pharma"}).json()["key"]
    chief = {"Authorization": f"Bearer {key}"}
    own = httpx.put(
        f"{base}/quotas",
        headers=chief,
        json={"level": "department", "department": "pharmacie", "rpm": 10},
    )
    assert own.status_code == 200
    other = httpx.put(
        f"{base}/quotas",
        headers=chief,
        json={"level": "department", "department": "cardiologie", "rpm": 1},
    )
    assert other.status_code == 404  # as for a department that does not exist
    visible = httpx.get(f"{base}/quotas", headers=chief).json()["data"]
    assert [row["label"] for row in visible] == ["department pharmacie"]


def test_open_ended_stream_is_topped_up_then_stopped_at_the_budget(
    simulator: BackgroundServer, start_gateway: GatewayFactory, sqlite_url: str
) -> None:
    gw = start_gateway(
        priced_catalog(simulator.url),
        sqlite_url,
        quota_refresh_s=0.2,
        default_max_tokens=8,
        quota_top_up_tokens=4,
    )
    content = MESSAGES[0]["content"]
    assert isinstance(content, str)
    prompt_bound = len(content.encode()) + 16 * 2  # max_prompt_tokens for one message
    budget = prompt_bound + 8 + 4 + 4  # the first hold plus two top-ups
    set_quota(gw, level="user", username="dr.test", budget_tokens=budget, period="day")
    pieces: list[str] = []
    with pytest.raises(openai.APIError) as caught:
        stream = gw.sdk().chat.completions.create(
            model=CHAT_MODEL, messages=MESSAGES, stream=True, extra_body={"sim_output_tokens": 60}
        )
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                pieces.append(chunk.choices[0].delta.content)
    assert "budget was exhausted" in caught.value.message
    assert len(pieces) == 16  # 8 held + 4 + 4 topped up, then stopped: no token beyond the hold

    def settled() -> dict[str, Any] | None:  # the broken stream's hold is settled shortly after
        [user] = httpx.get(f"{gw.url}/admin/quotas", headers=ADMIN).json()["data"]
        return user if user["reserved_tokens"] == 0 else None

    user = wait_until(settled, message="the hold is settled")
    assert user is not None and user["spent_tokens"] <= budget


# --- Quotas and the data-sovereignty policy -------------------------------------------------
# The reservation is sent before the policy decides (the two overlap): a denied request must
# leave nothing held or spent, and a reroute to a dearer model must hold the difference.
NOTE = "Résume le dossier de Mme Jeanne DUPONT, née le 12/03/1956 : douleur thoracique."
EXTERNAL = {"class": "eu_cloud", "cleared_for": ["public", "internal"], "retention": "zero"}


def sovereignty_catalog(simulator_url: str) -> Any:
    def external(name: str, **extra: Any) -> dict[str, Any]:
        deployment = {"name": f"{name}-eu", "replicas": [f"{simulator_url}/v1"]}
        return {"name": name, "deployments": [{**deployment, "hosting": EXTERNAL}], **extra}

    on_premise = {"name": "sim", "replicas": [f"{simulator_url}/v1"], "hosting": HEALTH_CLEARED}
    return parse_catalog(
        {
            "models": [
                {"name": CHAT_MODEL, "deployments": [on_premise]},
                external("cloud-rerouted", sovereign_alternative=CHAT_MODEL),
                external("cloud-denied"),
            ],
            # 0.001 EUR per token, except the rerouted external model, which costs nothing.
            "prices": {
                **PRICES,
                "cloud-rerouted": {"input": "0", "output": "0"},
                "cloud-denied": PRICES[CHAT_MODEL],
            },
        }
    )


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def sovereign_quota_gateway(
    request: pytest.FixtureRequest,
    simulator: BackgroundServer,
    start_gateway: GatewayFactory,
    sqlite_url: str,
) -> RunningGateway:
    return start_on_backend(
        request.param, sovereignty_catalog(simulator.url), start_gateway, sqlite_url
    )


def department_figures(gw: RunningGateway) -> tuple[Decimal, Decimal]:
    """Spent and reserved euros of the department once settlements have landed."""
    for _ in range(50):
        [department] = httpx.get(f"{gw.url}/admin/quotas", headers=ADMIN).json()["data"]
        if Decimal(department["reserved_eur"]) == 0:
            break
        time.sleep(0.02)
    return Decimal(department["spent_eur"]), Decimal(department["reserved_eur"])


def test_a_request_denied_by_the_policy_holds_and_spends_nothing(
    sovereign_quota_gateway: RunningGateway,
) -> None:
    gw = sovereign_quota_gateway
    set_quota(gw, level="department", department="cardiologie", budget_eur="10", period="month")
    with pytest.raises(openai.PermissionDeniedError):
        gw.sdk().chat.completions.create(
            model="cloud-denied", messages=[{"role": "user", "content": NOTE}], max_tokens=5
        )
    assert department_figures(gw) == (Decimal(0), Decimal(0))


def test_a_reroute_to_a_dearer_model_holds_the_difference(
    sovereign_quota_gateway: RunningGateway,
) -> None:
    gw = sovereign_quota_gateway
    # Enough for the free external model, not for the prompt on the on-premise one.
    set_quota(gw, level="department", department="cardiologie", budget_eur="0.05", period="month")
    with pytest.raises(openai.RateLimitError) as refused:
        gw.sdk().chat.completions.create(
            model="cloud-rerouted", messages=[{"role": "user", "content": NOTE}], max_tokens=5
        )
    assert isinstance(refused.value.body, dict)
    assert refused.value.body["code"] == "insufficient_quota"
    assert department_figures(gw) == (Decimal(0), Decimal(0))

    set_quota(gw, level="department", department="cardiologie", budget_eur="10", period="month")
    gw.wait_for_limit("department", "budget_eur", "10")
    raw = gw.sdk().chat.completions.with_raw_response.create(
        model="cloud-rerouted", messages=[{"role": "user", "content": NOTE}], max_tokens=5
    )
    assert raw.headers["x-hygie-policy-decision"] == "reroute"
    spent, reserved = department_figures(gw)
    [record] = gw.records([raw.headers["x-request-id"]])
    assert reserved == 0 and spent == from_micros(record.cost_micro_eur or 0) > 0


@pytest.mark.parametrize("stream", [False, True])
def test_sequential_requests_are_never_refused_by_a_concurrency_limit_of_one(
    quota_gateway: RunningGateway, stream: bool
) -> None:
    gw = quota_gateway
    set_quota(gw, level="user", username="dr.test", max_concurrent=1)
    gw.wait_for_limit("user", "max_concurrent", 1)
    client = gw.sdk()
    for _ in range(20):  # each request starts as soon as the previous answer arrived
        answer = client.chat.completions.create(
            model=CHAT_MODEL, messages=MESSAGES, max_tokens=2, stream=stream
        )
        if stream:
            assert list(answer)
