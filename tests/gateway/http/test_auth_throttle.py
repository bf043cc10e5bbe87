"""Floods of failed authentications are refused per client address before any lookup or record."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from billing.directory import Principal
from gateway.errors import GatewayError, UpstreamRejected, error_response
from gateway.http.auth_throttle import (
    FailedAuthLimiter,
    FailedAuthThrottle,
    client_address,
    parse_networks,
)
from gateway.steps.api_keys import hash_key
from gateway.steps.auth import Authenticator
from tests.conftest import CHAT_MODEL, GatewayFactory, make_catalog

OWNER = Principal("key_1", 1, "dr.a", "member", 1, "cardiologie", None, None)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_refills_at_its_rate_and_the_table_stays_bounded() -> None:
    clock = Clock()
    limiter = FailedAuthLimiter(burst=3, per_minute=60, max_clients=2, clock=clock)
    for _ in range(3):
        assert limiter.retry_after("10.0.0.1") is None
        limiter.failed("10.0.0.1")
    assert limiter.retry_after("10.0.0.1") == 1.0
    assert limiter.retry_after("10.0.0.2") is None  # another address is unaffected
    clock.now += 1.0
    assert limiter.retry_after("10.0.0.1") is None  # one more try per second
    limiter.failed("10.0.0.1")
    assert limiter.retry_after("10.0.0.1") is not None

    # Two addresses fill the table; newcomers share one bucket until old ones refill.
    for _ in range(3):
        limiter.failed("10.0.0.2")
    for n in range(3):
        limiter.failed(f"10.9.0.{n}")
    assert limiter.retry_after("10.9.9.9") is not None
    assert len(limiter._buckets) <= 3  # two addresses and the shared bucket
    clock.now += 60
    limiter.failed("10.8.0.1")  # refilled buckets are dropped to make room
    assert "10.8.0.1" in limiter._buckets and len(limiter._buckets) <= 3


def _scope(peer: str, forwarded: str | None = None) -> dict[str, Any]:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return {"type": "http", "client": (peer, 1234), "headers": headers}


def test_the_client_address_trusts_forwarding_only_from_configured_proxies() -> None:
    none = parse_networks([])
    proxies = parse_networks(["10.0.0.0/8", "192.168.1.1"])
    assert client_address(_scope("203.0.113.7", "1.2.3.4"), none) == "203.0.113.7"
    assert client_address(_scope("203.0.113.7", "1.2.3.4"), proxies) == "203.0.113.7"
    assert client_address(_scope("10.1.1.1", "1.2.3.4"), proxies) == "1.2.3.4"
    # A client cannot hide behind an address it writes itself: the right-most untrusted wins.
    chain = "6.6.6.6, 1.2.3.4, 192.168.1.1"
    assert client_address(_scope("10.1.1.1", chain), proxies) == "1.2.3.4"
    assert client_address(_scope("10.1.1.1", "garbage, 1.2.3.4"), proxies) == "1.2.3.4"
    assert client_address(_scope("10.1.1.1", "1.2.3.4, \x00junk"), proxies) == "10.1.1.1"
    assert client_address(_scope("10.1.1.1"), proxies) == "10.1.1.1"
    v6 = client_address(_scope("2001:db8:1:2:aaaa::1"), none)
    assert v6 == client_address(_scope("2001:db8:1:2:bbbb::9"), none) == "2001:db8:1:2::/64"


def test_refused_requests_never_reach_the_key_lookup() -> None:
    lookups: list[str] = []

    async def lookup(digest: str) -> Principal | None:
        lookups.append(digest)
        return OWNER if digest == hash_key("hyg_sk_good") else None

    authenticator = Authenticator(lookup, ttl_s=60)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["path"] == "/upstream":  # a model server's 401, passed through
            error = UpstreamRejected(401, "bad provider key", param=None, code=None)
            await error_response(error)(scope, receive, send)
            return
        headers = dict(scope["headers"])
        authorization = headers.get(b"authorization", b"").decode() or None
        try:
            await authenticator.authenticate(authorization)
        except GatewayError as error:
            await error_response(error)(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    throttle = FailedAuthThrottle(
        app,
        FailedAuthLimiter(burst=4, per_minute=6),
        trusted_proxies=(),
        known_key=authenticator.knows,
    )

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=throttle, client=("198.51.100.4", 5555))
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            good = {"Authorization": "Bearer hyg_sk_good"}
            assert (await client.get("/", headers=good)).status_code == 200
            for _ in range(10):  # not the caller's failure: nothing is spent
                assert (await client.get("/upstream", headers=good)).status_code == 401
            answers = []
            for n in range(20):
                bad = {"Authorization": f"Bearer hyg_sk_bad{n}"} if n % 2 else {}
                answers.append(await client.get("/", headers=bad))
            assert (await client.get("/", headers=good)).status_code == 200  # still welcome
            return answers

    answers = asyncio.run(run())
    assert [a.status_code for a in answers] == [401] * 4 + [429] * 16
    assert len(lookups) == 1 + 2  # the good key once, the two bad keys among the first four
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "rate_limit_exceeded"
    assert 1 <= int(refused.headers["retry-after"]) <= 10


@pytest.mark.slow
def test_an_unauthenticated_flood_is_refused_and_not_recorded_per_request(
    simulator: Any, start_gateway: GatewayFactory, database_url: str
) -> None:
    gateway = start_gateway(
        make_catalog(simulator.url), database_url, auth_failure_burst=5, auth_failure_per_minute=1
    )
    client = gateway.sdk()
    client.chat.completions.create(
        model=CHAT_MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=1
    )
    body = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "x"}]}
    statuses = []
    for n in range(40):
        headers = {"Authorization": f"Bearer hyg_sk_wrong{n}"} if n % 3 else {}
        if n % 4:
            answer = httpx.post(f"{gateway.url}/v1/chat/completions", json=body, headers=headers)
        else:
            answer = httpx.get(f"{gateway.url}/admin/keys", headers=headers)
        statuses.append(answer.status_code)
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429] * 35
    refused = httpx.get(f"{gateway.url}/v1/models")
    assert refused.status_code == 429 and "retry-after" in refused.headers
    keys = httpx.get(
        f"{gateway.url}/admin/keys", headers={"Authorization": "Bearer admin-test-token"}
    )
    assert keys.status_code == 200  # the operator's token is never refused either
    # The known key still works from the same address.
    assert client.chat.completions.create(
        model=CHAT_MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=1
    ).choices

    inference_401s = sum(1 for n in range(5) if n % 4)  # admin 401s are not ledger records
    expected = 2 + inference_401s
    deadline = time.monotonic() + 5
    while gateway.count() < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # a flush more: nothing else may arrive
    assert gateway.count() == expected
    assert httpx.get(f"{gateway.url}/healthz").status_code == 200  # probes are never refused
    metrics = httpx.get(f"{gateway.url}/metrics").text
    assert "hygie_auth_throttled_total 36.0" in metrics
