"""The ledger counts what vLLM counts, where the simulator once let the gateway differ:
several prompts in a stream the client leaves, and requests vLLM refuses before any work."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest

from gateway.http.local_server import BackgroundServer
from hygie_simulator import create_simulator_app
from tests.conftest import (
    CHAT_MODEL,
    GatewayFactory,
    RunningGateway,
    make_catalog,
    simulator_config,
)
from tests.gateway.test_quotas import ADMIN, priced_catalog

PROMPTS = ["Douleur thoracique", "Quels examens demander pour une suspicion d'embolie pulmonaire ?"]


def upstream_prompt_tokens(upstream_url: str, path: str, body: dict[str, Any]) -> int:
    """The prompt count the model server itself reports for ``body`` (one token generated)."""
    plain = {**body, "stream": False, "max_tokens": 1}
    plain.pop("stream_options", None)  # refused without a stream, as vLLM does
    answer = httpx.post(f"{upstream_url}/v1/{path}", json=plain, timeout=10).json()
    return int(answer["usage"]["prompt_tokens"])


def leave_once_every_choice_spoke(gw: RunningGateway, path: str, body: dict[str, Any]) -> str:
    """Stream ``body``; hang up once every choice has sent a token; return the request id."""
    choices = body.get("n", 1) * (len(body["prompt"]) if path == "completions" else 1)
    seen: set[int] = set()
    with httpx.stream(
        "POST",
        f"{gw.base_url}/{path}",
        json=body,
        headers={"Authorization": f"Bearer {gw.key}"},
        timeout=20,
    ) as response:
        assert response.status_code == 200
        request_id = response.headers["x-request-id"]
        for line in response.iter_lines():
            if line.startswith("data: {"):
                seen.update(c["index"] for c in orjson.loads(line[6:])["choices"])
            if len(seen) == choices:
                break  # every choice has begun: now hang up
    assert len(seen) == choices
    return request_id


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("completions", {"prompt": PROMPTS, "n": 2}),
        ("completions", {"prompt": PROMPTS}),
        ("chat/completions", {"messages": [{"role": "user", "content": PROMPTS[1]}], "n": 2}),
    ],
)
def test_a_left_stream_bills_each_prompt_once(
    start_gateway: GatewayFactory, sqlite_url: str, path: str, body: dict[str, Any]
) -> None:
    # vLLM puts each prompt's own count on its choices' chunks: the ledger once kept the last
    # chunk's, one prompt instead of all of them. Chat with n=2 counts its one prompt once.
    slow = simulator_config(inter_token_ms=20)
    with BackgroundServer(create_simulator_app(slow)) as upstream:
        gw = start_gateway(make_catalog(upstream.url), sqlite_url)
        request = {"model": CHAT_MODEL, "stream": True, "max_tokens": 300, **body}
        request_id = leave_once_every_choice_spoke(gw, path, request)
        expected = upstream_prompt_tokens(upstream.url, path, {**request, "n": 1})
        [record] = gw.records([request_id])
    assert record.client_disconnected and not record.tokens_estimated
    assert record.prompt_tokens == expected
    assert 0 < record.completion_tokens < 300 * (len(PROMPTS) * 2)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("chat/completions", {"messages": [{"role": "user", "content": "Bonjour"}]}),
        ("completions", {"prompt": "Bonjour"}),
        ("completions", {"prompt": "mot " * 5000, "max_tokens": 4}),
    ],
    ids=["chat-max-tokens", "completions-max-tokens", "prompt-too-long"],
)
def test_a_request_the_model_server_refuses_is_not_billed(
    simulator: BackgroundServer,
    start_gateway: GatewayFactory,
    sqlite_url: str,
    path: str,
    body: dict[str, Any],
) -> None:
    # vLLM's 400 (max_tokens over the context, prompt too long) comes before any GPU work and
    # its counters do not move: the ledger once recorded an estimated prompt, charged to the
    # department and its quota. Streamed, the same request was already recorded as 0.
    gw = start_gateway(priced_catalog(simulator.url), sqlite_url, quota_refresh_s=0.2)
    quota = {
        "level": "department",
        "department": "cardiologie",
        "budget_eur": "100",
        "period": "month",
    }
    assert httpx.put(f"{gw.url}/admin/quotas", headers=ADMIN, json=quota).status_code == 200
    request = {"model": CHAT_MODEL, "max_tokens": 5000, **body}
    for stream in (False, True):
        answer = httpx.post(
            f"{gw.base_url}/{path}",
            json={**request, "stream": stream},
            headers={"Authorization": f"Bearer {gw.key}"},
            timeout=10,
        )
        assert answer.status_code == 400, answer.text
        [record] = gw.records([answer.headers["x-request-id"]])
        assert record.attempts == 1 and record.error_class == "upstream_rejected"
        assert (record.prompt_tokens, record.completion_tokens) == (0, 0)
        assert not record.tokens_estimated and not record.cost_micro_eur
    for _ in range(50):  # settlements land shortly after the answer
        [department] = httpx.get(f"{gw.url}/admin/quotas", headers=ADMIN).json()["data"]
        if Decimal(department["reserved_eur"]) == 0:
            break
        time.sleep(0.02)
    assert Decimal(department["spent_eur"]) == 0 == Decimal(department["reserved_eur"])


@pytest.mark.parametrize(
    "stream_options", [None, {}, {"continuous_usage_stats": True}, {"include_usage": False}]
)
def test_the_gateway_asks_for_usage_whatever_the_client_sent(
    sqlite_gateway: RunningGateway, simulator: BackgroundServer, stream_options: Any
) -> None:
    # vLLM (and now the simulator) sends no usage unless `include_usage` is true, even with
    # `continuous_usage_stats`: the gateway must ask for it itself, or the stream is estimated.
    body: dict[str, Any] = {
        "model": CHAT_MODEL,
        "messages": [{"role": "user", "content": PROMPTS[0]}],
        "max_tokens": 4,
        "stream": True,
    }
    if stream_options is not None:
        body["stream_options"] = stream_options
    answer = httpx.post(
        f"{sqlite_gateway.base_url}/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {sqlite_gateway.key}"},
        timeout=10,
    )
    events = [e for e in answer.content.split(b"\n\n") if e.startswith(b"data: {")]
    assert events and all(b'"usage"' not in e for e in events)  # the client did not ask
    [record] = sqlite_gateway.records([answer.headers["x-request-id"]])
    assert not record.tokens_estimated and record.completion_tokens == 4
    assert record.prompt_tokens == upstream_prompt_tokens(simulator.url, "chat/completions", body)
