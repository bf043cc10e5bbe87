"""LiteLLMClient against local imitations of OpenAI, Azure OpenAI, Mistral and Anthropic.

Each test checks both directions of the translation: what the provider received (model, fields,
system prompt placement, the gateway's credential) and what the gateway gets back (OpenAI JSON
or SSE that the gateway's own StreamMeter reads, with usage).
"""

from __future__ import annotations

import time
from contextlib import aclosing
from typing import Any

import anyio
import orjson
import pytest

from billing.usage import Usage
from gateway.backends.litellm.client import LiteLLMClient
from gateway.backends.litellm.errors import (
    DeploymentMisconfigured,
    ProviderRateLimited,
    ProviderRejected,
    ProviderStreamBroken,
)
from gateway.backends.litellm.request import UnsupportedEndpoint
from gateway.backends.protocol import ReplicaUnreachable
from gateway.errors import UpstreamRejected
from gateway.http.local_server import free_port
from gateway.http.sse import StreamMeter
from gateway.routing.router import upstream_error_from
from tests.providers.conftest import DeploymentFactory
from tests.providers.fake_providers import (
    ANSWER,
    CACHED_TOKENS,
    COMPLETION_TOKENS,
    EMBEDDING,
    GATEWAY_SECRET,
    PROMPT_TOKENS,
    ReceivedRequest,
    Recorder,
)

pytestmark = [
    pytest.mark.anyio,
    # litellm builds a pydantic adapter for Mistral's routing TypedDict on first use; pydantic
    # warns that its ReadOnly items are not enforced. Harmless, but fatal under "warnings are
    # errors" (litellm turns the exception into a 400).
    pytest.mark.filterwarnings("ignore:.*using the `ReadOnly` qualifier:UserWarning"),
    # litellm's stream handler reads model_fields on instances, deprecated since pydantic 2.11.
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince211"),
]

PROVIDERS = ("openai", "azure", "mistral", "anthropic")
PUBLIC_MODEL = "assistant-externe"
SYSTEM_PROMPT = "Tu es un assistant pour le personnel hospitalier."
CLIENT_KEY = "sk-client-smuggled-key"
# Anthropic's cached prompt tokens reach the usage; Mistral reports no cache figure.
CACHED = {"openai": CACHED_TOKENS, "azure": CACHED_TOKENS, "anthropic": CACHED_TOKENS}


def chat_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": PUBLIC_MODEL,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": "Bonjour"},
        ],
        "max_tokens": 50,
        "temperature": 0.2,
        "seed": 7,
        # Never to be forwarded: credentials, a redirect, and provider-side retention.
        "api_key": CLIENT_KEY,
        "api_base": "http://127.0.0.1:9/elsewhere",
        "store": True,
        "metadata": {"patient": "12345"},
    }
    body.update(overrides)
    return body


def expected_usage(provider: str) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": COMPLETION_TOKENS,
        "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
    }
    if provider in CACHED:
        usage["prompt_tokens_details"] = {"cached_tokens": CACHED[provider]}
    return usage


def only_request(recorder: Recorder, tag: str) -> ReceivedRequest:
    received = recorder.of(tag)
    assert len(received) == 1, [r.path for r in received]
    return received[0]


def assert_translated_request(provider: str, received: ReceivedRequest) -> None:
    """The provider got its own model name, the fields in its dialect, the gateway's key."""
    body, headers = received.body, received.headers
    assert not any(CLIENT_KEY in value for value in headers.values())
    assert CLIENT_KEY not in orjson.dumps(body).decode()
    assert "store" not in body and "metadata" not in body and "api_base" not in body
    assert body["max_tokens"] == 50
    assert body["temperature"] == 0.2
    if provider == "anthropic":
        assert headers["x-api-key"] == GATEWAY_SECRET
        assert headers["anthropic-version"]
        assert body["model"] == "claude-3-5-haiku-20241022"
        # The system prompt moves out of the messages into Anthropic's top-level field.
        assert [m["role"] for m in body["messages"]] == ["user"]
        system = body["system"]
        texts = [system] if isinstance(system, str) else [block["text"] for block in system]
        assert texts == [SYSTEM_PROMPT]
        assert "seed" not in body  # no Anthropic equivalent: dropped, not an error
        return
    assert body["messages"][0] == {"role": "system", "content": SYSTEM_PROMPT}
    if provider == "azure":
        assert headers["api-key"] == GATEWAY_SECRET
        assert received.path.endswith("/openai/deployments/gpt-4o-mini-hdf/chat/completions")
        assert received.query["api-version"]
    else:
        assert headers["authorization"] == f"Bearer {GATEWAY_SECRET}"
    if provider == "mistral":
        assert body["model"] == "mistral-small-latest"
        assert body["random_seed"] == 7 and "seed" not in body
    else:
        assert body["seed"] == 7
    if provider == "openai":
        assert body["model"] == "gpt-4o-mini"


async def read_stream(client: LiteLLMClient, *args: Any) -> tuple[list[Any], StreamMeter]:
    """Every SSE payload of a stream, and the gateway's StreamMeter fed with the same bytes."""
    meter = StreamMeter(keep_usage_chunk=True)
    raw = b""
    async with aclosing(client.stream(*args)) as events:
        async for data in events:
            raw += data
            meter.feed(data)
    payloads: list[Any] = []
    for event in raw.split(b"\n\n")[:-1]:
        assert event.startswith(b"data: "), event
        text = event.removeprefix(b"data: ")
        payloads.append("[DONE]" if text == b"[DONE]" else orjson.loads(text))
    return payloads, meter


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_chat_completion_is_translated_both_ways(
    provider: str,
    client: LiteLLMClient,
    deployment_for: DeploymentFactory,
    recorder: Recorder,
    tag: str,
) -> None:
    reply = await client.complete(deployment_for(provider), "chat", chat_body(), GATEWAY_SECRET)

    assert (reply.status, reply.content_type) == (200, "application/json"), reply.body
    answer = orjson.loads(reply.body)
    assert answer["object"] == "chat.completion"
    assert answer["model"] == PUBLIC_MODEL
    assert answer["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": ANSWER},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    assert answer["usage"] == expected_usage(provider)
    assert Usage.from_openai(answer["usage"]) == Usage(
        PROMPT_TOKENS, COMPLETION_TOKENS, CACHED.get(provider, 0)
    )
    assert_translated_request(provider, only_request(recorder, tag))


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_chat_stream_reads_like_a_vllm_stream(
    provider: str,
    client: LiteLLMClient,
    deployment_for: DeploymentFactory,
    recorder: Recorder,
    tag: str,
) -> None:
    payloads, meter = await read_stream(
        client, deployment_for(provider), "chat", chat_body(stream=True), GATEWAY_SECRET
    )

    *chunks, usage_chunk, done = payloads
    assert done == "[DONE]"
    assert usage_chunk["choices"] == [] and usage_chunk["usage"] == expected_usage(provider)
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert all(c["model"] == PUBLIC_MODEL and c["choices"] for c in chunks)
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == ANSWER
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert not any("usage" in c for c in chunks)
    assert meter.saw_done
    assert meter.usage == Usage(PROMPT_TOKENS, COMPLETION_TOKENS, CACHED.get(provider, 0))

    received = only_request(recorder, tag)
    assert_translated_request(provider, received)
    assert received.body["stream"] is True
    if provider in ("openai", "azure"):
        assert received.body["stream_options"] == {"include_usage": True}


async def test_missing_provider_usage_is_counted_with_the_tokenizer(
    client: LiteLLMClient, deployment_for: DeploymentFactory
) -> None:
    deployment = deployment_for("openai", "no-usage")

    reply = await client.complete(deployment, "chat", chat_body(), GATEWAY_SECRET)
    payloads, meter = await read_stream(
        client, deployment, "chat", chat_body(stream=True), GATEWAY_SECRET
    )

    usage = orjson.loads(reply.body)["usage"]
    assert usage["prompt_tokens"] > 5 and 0 < usage["completion_tokens"] <= 10
    assert payloads[-2]["choices"] == [] and payloads[-2]["usage"] == usage
    assert meter.usage is not None and meter.usage.prompt_tokens == usage["prompt_tokens"]


async def test_anthropic_tool_calls_are_translated_both_ways(
    client: LiteLLMClient, deployment_for: DeploymentFactory, recorder: Recorder, tag: str
) -> None:
    parameters = {"type": "object", "properties": {"ward": {"type": "string"}}}
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_ward_census",
                "description": "Beds occupied in a ward.",
                "parameters": parameters,
            },
        }
    ]
    deployment = deployment_for("anthropic", "tools")

    reply = await client.complete(deployment, "chat", chat_body(tools=tools), GATEWAY_SECRET)
    payloads, _ = await read_stream(
        client, deployment, "chat", chat_body(tools=tools, stream=True), GATEWAY_SECRET
    )

    [sent] = recorder.of(tag)[0].body["tools"]
    assert sent["name"] == "get_ward_census"
    assert sent["description"] == "Beds occupied in a ward."
    assert sent["input_schema"] == parameters
    assert sent.get("type", "custom") == "custom"
    choice = orjson.loads(reply.body)["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    [call] = choice["message"]["tool_calls"]
    assert call["id"] == "toolu_fake1" and call["type"] == "function"
    assert call["function"]["name"] == "get_ward_census"
    assert orjson.loads(call["function"]["arguments"]) == {"ward": "cardiologie"}
    streamed = [c for c in payloads[:-2] if c["choices"][0]["delta"].get("tool_calls")]
    arguments = "".join(
        c["choices"][0]["delta"]["tool_calls"][0]["function"].get("arguments", "") for c in streamed
    )
    assert orjson.loads(arguments) == {"ward": "cardiologie"}
    assert payloads[-3]["choices"][0]["finish_reason"] == "tool_calls"


async def test_text_completions(
    client: LiteLLMClient, deployment_for: DeploymentFactory, recorder: Recorder, tag: str
) -> None:
    openai = deployment_for("openai", litellm_model="openai/gpt-3.5-turbo-instruct")
    body = {"model": PUBLIC_MODEL, "prompt": "Dis bonjour", "max_tokens": 5, "echo": False}

    reply = await client.complete(openai, "completions", body, GATEWAY_SECRET)
    payloads, meter = await read_stream(
        client, openai, "completions", {**body, "stream": True}, GATEWAY_SECRET
    )
    claude = await client.complete(deployment_for("anthropic"), "completions", body, GATEWAY_SECRET)

    answer = orjson.loads(reply.body)
    assert answer["object"] == "text_completion" and answer["model"] == PUBLIC_MODEL
    assert answer["choices"][0]["text"] == ANSWER
    assert answer["usage"]["prompt_tokens"] == PROMPT_TOKENS
    assert "".join(c["choices"][0]["text"] for c in payloads[:-2]) == ANSWER
    assert meter.usage == Usage(PROMPT_TOKENS, COMPLETION_TOKENS)
    openai_request, _, anthropic_request = recorder.of(tag)
    assert openai_request.path.endswith("/v1/completions")
    assert openai_request.body["prompt"] == "Dis bonjour"
    # Anthropic has no completions endpoint: the prompt becomes a user message.
    assert anthropic_request.path.endswith("/v1/messages")
    assert anthropic_request.body["messages"][0]["role"] == "user"
    assert orjson.loads(claude.body)["choices"][0]["text"] == ANSWER


@pytest.mark.parametrize("provider", ("openai", "azure", "mistral"))
async def test_embeddings(
    provider: str,
    client: LiteLLMClient,
    deployment_for: DeploymentFactory,
    recorder: Recorder,
    tag: str,
) -> None:
    body = {"model": PUBLIC_MODEL, "input": ["tension", "fièvre"], "encoding_format": "float"}

    reply = await client.complete(deployment_for(provider), "embeddings", body, GATEWAY_SECRET)

    answer = orjson.loads(reply.body)
    assert answer == {
        "object": "list",
        "data": [
            {"object": "embedding", "index": 0, "embedding": EMBEDDING},
            {"object": "embedding", "index": 1, "embedding": EMBEDDING},
        ],
        "model": PUBLIC_MODEL,
        "usage": {"prompt_tokens": 4, "total_tokens": 4},
    }
    received = only_request(recorder, tag)
    assert received.path.endswith("/embeddings")
    assert received.body["input"] == ["tension", "fièvre"]
    with pytest.raises(UnsupportedEndpoint):
        await anext(client.stream(deployment_for(provider), "embeddings", body, GATEWAY_SECRET))


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_refused_request_reaches_the_client_with_the_provider_message(
    provider: str, client: LiteLLMClient, deployment_for: DeploymentFactory
) -> None:
    deployment = deployment_for(provider, "error-400")

    reply = await client.complete(deployment, "chat", chat_body(), GATEWAY_SECRET)
    with pytest.raises(ProviderRejected) as streamed:
        await anext(client.stream(deployment, "chat", chat_body(stream=True), GATEWAY_SECRET))

    assert reply.status == 400
    message = f"fake {provider}: 'max_tokens' is too large for this model"
    assert orjson.loads(reply.body)["error"]["message"] == message
    error = upstream_error_from(reply.status, reply.body)  # what the router does with it
    assert isinstance(error, UpstreamRejected) and error.message == message
    assert streamed.value.status == 400 and streamed.value.message == message


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_refused_gateway_credential_is_not_blamed_on_the_client(
    provider: str, client: LiteLLMClient, deployment_for: DeploymentFactory
) -> None:
    with pytest.raises(DeploymentMisconfigured) as refused:
        await client.complete(deployment_for(provider), "chat", chat_body(), "not-the-secret")

    assert refused.value.status == 401
    assert isinstance(refused.value, ReplicaUnreachable)  # the router may fail over
    assert "incorrect API key" in str(refused.value)


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("status", [500, 503])
async def test_a_failing_provider_is_retryable_and_tried_once(
    provider: str,
    status: int,
    client: LiteLLMClient,
    deployment_for: DeploymentFactory,
    recorder: Recorder,
    tag: str,
) -> None:
    with pytest.raises(ReplicaUnreachable) as failed:
        await client.complete(
            deployment_for(provider, f"error-{status}"), "chat", chat_body(), GATEWAY_SECRET
        )

    assert type(failed.value) is ReplicaUnreachable and not failed.value.timed_out
    assert f"HTTP {status}" in str(failed.value)
    assert len(recorder.of(tag)) == 1  # neither litellm nor the OpenAI SDK retried


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_a_rate_limit_is_retryable_with_its_hint(
    provider: str, client: LiteLLMClient, deployment_for: DeploymentFactory
) -> None:
    with pytest.raises(ProviderRateLimited) as limited:
        await client.complete(
            deployment_for(provider, "error-429"), "chat", chat_body(), GATEWAY_SECRET
        )

    assert limited.value.retry_after_s == 7.0


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_a_provider_that_refuses_connections_is_unreachable(
    provider: str, client: LiteLLMClient, deployment_for: DeploymentFactory
) -> None:
    deployment = deployment_for(provider, api_base=f"http://127.0.0.1:{free_port()}/v1")

    with pytest.raises(ReplicaUnreachable):
        await client.complete(deployment, "chat", chat_body(), GATEWAY_SECRET)
    with pytest.raises(ReplicaUnreachable):
        await anext(client.stream(deployment, "chat", chat_body(stream=True), GATEWAY_SECRET))


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_no_answer_within_first_byte_s_is_a_timeout(
    provider: str, client: LiteLLMClient, deployment_for: DeploymentFactory
) -> None:
    timeouts = {"connect_s": 1.0, "first_byte_s": 0.4, "idle_s": 0.4}
    deployment = deployment_for(provider, "slow", timeouts=timeouts)

    started = time.monotonic()
    with pytest.raises(ReplicaUnreachable) as failed:
        await client.complete(deployment, "chat", chat_body(), GATEWAY_SECRET)

    assert failed.value.timed_out
    assert time.monotonic() - started < 1.5


async def test_a_stream_that_stalls_is_broken_after_idle_s(
    client: LiteLLMClient, deployment_for: DeploymentFactory
) -> None:
    timeouts = {"connect_s": 1.0, "first_byte_s": 2.0, "idle_s": 0.3}
    deployment = deployment_for("openai", "stall", timeouts=timeouts)
    received: list[bytes] = []

    with pytest.raises(ProviderStreamBroken) as broken:
        async with aclosing(
            client.stream(deployment, "chat", chat_body(stream=True), GATEWAY_SECRET)
        ) as events:
            async for data in events:
                received.append(data)

    assert broken.value.timed_out
    assert len(received) >= 2  # bytes had gone out: the router must not retry


async def test_an_anthropic_error_event_mid_stream_breaks_the_stream(
    client: LiteLLMClient, deployment_for: DeploymentFactory
) -> None:
    deployment = deployment_for("anthropic", "broken")
    received: list[bytes] = []

    with pytest.raises(ProviderStreamBroken) as broken:
        async with aclosing(
            client.stream(deployment, "chat", chat_body(stream=True), GATEWAY_SECRET)
        ) as events:
            async for data in events:
                received.append(data)

    assert b"Bonjour" in b"".join(received)
    assert "Overloaded" in str(broken.value) and not broken.value.timed_out


async def test_closing_a_stream_early_closes_the_provider_connection(
    client: LiteLLMClient, deployment_for: DeploymentFactory, recorder: Recorder, tag: str
) -> None:
    deployment = deployment_for("openai", "drip")

    async with aclosing(
        client.stream(deployment, "chat", chat_body(stream=True), GATEWAY_SECRET)
    ) as events:
        for _ in range(3):
            await anext(events)
    # The client left: the provider must see its connection close, not stream 200 chunks.
    outcome = await anyio.to_thread.run_sync(recorder.wait_for_outcome, tag, 3.0)

    assert outcome == "client_gone"
    assert recorder.chunks_sent[tag] < 100
