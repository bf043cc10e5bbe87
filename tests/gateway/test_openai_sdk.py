"""The official openai SDK, sync and async, against Hygie against the simulated vLLM."""

from __future__ import annotations

import asyncio

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from hygie_simulator import count_prompt_tokens
from tests.conftest import CHAT_MODEL, EMBEDDING_MODEL, RunningGateway

MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "Tu es un assistant pour un service hospitalier."},
    {"role": "user", "content": "Résume les recommandations pour la prise en charge d'un IDM."},
]


def client_for(gw: RunningGateway) -> openai.OpenAI:
    return gw.sdk()


def test_chat_completion_is_answered_and_recorded_once(gateway: RunningGateway) -> None:
    raw = client_for(gateway).chat.completions.with_raw_response.create(
        model=CHAT_MODEL, messages=MESSAGES, max_tokens=12
    )
    completion = raw.parse()
    request_id = raw.headers["x-request-id"]

    assert completion.choices[0].message.content
    assert completion.usage is not None and completion.usage.completion_tokens == 12
    [record] = gateway.records([request_id])
    assert record.status_code == 200
    assert record.model == CHAT_MODEL and record.deployment == "sim"
    assert record.prompt_tokens == completion.usage.prompt_tokens
    assert record.prompt_tokens == count_prompt_tokens({"model": CHAT_MODEL, "messages": MESSAGES})
    assert record.completion_tokens == 12
    assert not record.tokens_estimated and not record.streamed
    assert record.key_id == gateway.key_id and record.use_case == "tests"
    assert record.latency_ms > 0 and record.ttft_ms is not None


def test_streamed_chat_without_usage_request_hides_the_usage_chunk(gateway: RunningGateway) -> None:
    with client_for(gateway).chat.completions.with_streaming_response.create(
        model=CHAT_MODEL, messages=MESSAGES, max_tokens=9, stream=True
    ) as response:
        request_id = response.headers["x-request-id"]
        chunks = list(response.parse())

    assert all(chunk.usage is None for chunk in chunks)
    assert all(chunk.choices for chunk in chunks)  # no usage-only chunk reached the client
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text
    [record] = gateway.records([request_id])
    assert record.streamed and record.status_code == 200
    assert record.completion_tokens == 9 and not record.tokens_estimated
    assert record.prompt_tokens == count_prompt_tokens({"model": CHAT_MODEL, "messages": MESSAGES})
    assert record.ttft_ms is not None and record.ttft_ms <= record.latency_ms


def test_streamed_chat_with_usage_request_keeps_the_usage_chunk(gateway: RunningGateway) -> None:
    stream = client_for(gateway).chat.completions.create(
        model=CHAT_MODEL,
        messages=MESSAGES,
        max_tokens=7,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    usage_chunks = [c for c in chunks if c.usage is not None]
    assert len(usage_chunks) == 1 and usage_chunks[0].choices == []
    assert usage_chunks[0].usage is not None
    assert usage_chunks[0].usage.completion_tokens == 7


def test_completions_and_streamed_completions(gateway: RunningGateway) -> None:
    client = client_for(gateway)
    raw = client.completions.with_raw_response.create(
        model=CHAT_MODEL, prompt="Le patient présente", max_tokens=5
    )
    completion = raw.parse()
    assert completion.choices[0].text
    stream = client.completions.create(
        model=CHAT_MODEL, prompt="Le patient présente", max_tokens=4, stream=True
    )
    pieces = [c.choices[0].text for c in stream if c.choices]
    assert len(pieces) == 4
    [record] = gateway.records([raw.headers["x-request-id"]])
    assert record.endpoint == "completions" and record.completion_tokens == 5


def test_embeddings(gateway: RunningGateway) -> None:
    raw = client_for(gateway).embeddings.with_raw_response.create(
        model=EMBEDDING_MODEL, input=["douleur thoracique", "dyspnée d'effort"]
    )
    result = raw.parse()
    assert len(result.data) == 2 and len(result.data[0].embedding) > 8
    [record] = gateway.records([raw.headers["x-request-id"]])
    assert record.endpoint == "embeddings" and record.prompt_tokens > 0
    assert record.completion_tokens == 0


def test_models_lists_metadata(gateway: RunningGateway) -> None:
    models = client_for(gateway).models.list()
    by_id = {m.id: m for m in models.data}
    assert set(by_id) == {CHAT_MODEL, EMBEDDING_MODEL}
    card = by_id[CHAT_MODEL].model_dump()
    assert card["description"] == "Test model"
    assert card["approval"] == "approved"
    assert card["hosting_classes"] == ["on_premise"]
    assert client_for(gateway).models.retrieve(CHAT_MODEL).id == CHAT_MODEL


def test_async_client_stream_and_plain(sqlite_gateway: RunningGateway) -> None:
    async def run() -> tuple[str, int]:
        client = openai.AsyncOpenAI(
            base_url=sqlite_gateway.base_url, api_key=sqlite_gateway.key, max_retries=0
        )
        try:
            plain = await client.chat.completions.create(
                model=CHAT_MODEL, messages=MESSAGES, max_tokens=3
            )
            stream = await client.chat.completions.create(
                model=CHAT_MODEL, messages=MESSAGES, max_tokens=6, stream=True
            )
            count = 0
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    count += 1
            return plain.choices[0].message.content or "", count
        finally:
            await client.close()

    text, streamed_pieces = asyncio.run(run())
    assert text and streamed_pieces >= 5


def test_unknown_fields_pass_through(sqlite_gateway: RunningGateway) -> None:
    completion = client_for(sqlite_gateway).chat.completions.create(
        model=CHAT_MODEL,
        messages=MESSAGES,
        max_tokens=4,
        seed=7,
        logprobs=False,
        response_format={"type": "text"},
        extra_body={"top_k": 5, "repetition_penalty": 1.1, "sim_output_tokens": 2},
    )
    # sim_output_tokens is a simulator field: it only works if the body reached it untouched.
    assert completion.usage is not None and completion.usage.completion_tokens == 2


@pytest.mark.parametrize("stream", [False, True])
def test_upstream_validation_error_passes_through(
    sqlite_gateway: RunningGateway, stream: bool
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client_for(sqlite_gateway).chat.completions.create(
            model=CHAT_MODEL, messages=MESSAGES, max_tokens=50_000, stream=stream
        )
    assert "max_tokens" in str(caught.value)
    assert caught.value.response.headers["x-request-id"].startswith("req_")
