"""Opt-in: for each kind of request, the ledger holds the tokens the REAL vLLM counted.

Every test compares the ledger with the deltas of vLLM's own ``vllm:prompt_tokens_total`` and
``vllm:generation_tokens_total`` around one request, so the vLLM server must serve nobody else
while the suite runs. ``ignore_eos`` (a vLLM extra) makes lengths independent of the random model.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionChunk
from openai.types.chat.chat_completion_chunk import Choice as ChunkChoice
from openai.types.completion import Completion

from billing.ledger.record import LedgerRecord
from tests.real_vllm.conftest import EMBEDDING_MODEL, RealVllm
from tests.real_vllm.vllm_counters import Counters

pytestmark = pytest.mark.vllm

MESSAGES: list[Any] = [
    {"role": "system", "content": "Tu es un assistant de service hospitalier, réponds en bref."},
    {"role": "user", "content": "Résume le dossier de sortie en trois points pour le médecin."},
]
PROMPT = "Compte rendu de consultation :"
REQUEST_ID = "x-request-id"


def ledger_of(records: Iterable[LedgerRecord]) -> Counters:
    records = list(records)
    return Counters(
        sum(r.prompt_tokens for r in records), sum(r.completion_tokens for r in records)
    )


def assert_exact(real: RealVllm, request_ids: list[str], before: Counters) -> list[LedgerRecord]:
    """One server-counted record per request, whose tokens sum to vLLM's counter deltas."""
    records = real.gateway.records(request_ids)
    counted = real.counters() - before
    assert len(records) == len(request_ids)
    assert [r.tokens_estimated for r in records] == [False] * len(records)
    assert ledger_of(records) == counted
    return records


def chat_stream(real: RealVllm, **options: Any) -> tuple[str, list[ChatCompletionChunk]]:
    with real.client.chat.completions.with_streaming_response.create(
        model=real.model, messages=MESSAGES, stream=True, **options
    ) as response:
        return response.headers[REQUEST_ID], list(response.parse())


def usage_flags(chunks: Iterable[ChatCompletionChunk | Completion]) -> list[bool]:
    return [chunk.usage is not None for chunk in chunks]


def test_chat(real: RealVllm) -> None:
    before = real.counters()
    raw = real.client.chat.completions.with_raw_response.create(
        model=real.model, messages=MESSAGES, max_tokens=12
    )
    [record] = assert_exact(real, [raw.headers[REQUEST_ID]], before)
    usage = raw.parse().usage
    assert usage is not None
    assert (record.prompt_tokens, record.completion_tokens) == (
        usage.prompt_tokens,
        usage.completion_tokens,
    )


def test_chat_stream_without_usage_shows_the_client_no_usage(real: RealVllm) -> None:
    before = real.counters()
    request_id, chunks = chat_stream(real, max_tokens=9)
    assert_exact(real, [request_id], before)
    # The gateway asks vLLM for usage behind the client's back; none of it may leak out.
    assert chunks and not any(usage_flags(chunks))


def test_chat_stream_with_include_usage_gets_usage_only_at_the_end(real: RealVllm) -> None:
    before = real.counters()
    request_id, chunks = chat_stream(real, max_tokens=9, stream_options={"include_usage": True})
    [record] = assert_exact(real, [request_id], before)
    assert usage_flags(chunks) == [False] * (len(chunks) - 1) + [True]
    usage = chunks[-1].usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens) == (
        record.prompt_tokens,
        record.completion_tokens,
    )


def test_chat_stream_with_continuous_usage_asked_by_the_client(real: RealVllm) -> None:
    before = real.counters()
    options = {"include_usage": True, "continuous_usage_stats": True}
    request_id, chunks = chat_stream(real, max_tokens=9, stream_options=options)
    assert_exact(real, [request_id], before)
    assert chunks and all(usage_flags(chunks))  # asked for: kept on every chunk


def test_chat_with_two_choices(real: RealVllm) -> None:
    before = real.counters()
    raw = real.client.chat.completions.with_raw_response.create(
        model=real.model, messages=MESSAGES, max_tokens=7, n=2, extra_body={"ignore_eos": True}
    )
    [record] = real.gateway.records([raw.headers[REQUEST_ID]])
    counted = real.counters() - before
    assert len(raw.parse().choices) == 2
    assert not record.tokens_estimated
    # vLLM runs each choice as its own engine request and counts the shared prompt once per
    # choice (prefix-cache hits included); the usage it answers, and the ledger, count it once.
    assert Counters(2 * record.prompt_tokens, record.completion_tokens) == counted
    assert record.completion_tokens == 2 * 7


def test_chat_that_reaches_max_tokens(real: RealVllm) -> None:
    before = real.counters()
    raw = real.client.chat.completions.with_raw_response.create(
        model=real.model, messages=MESSAGES, max_tokens=11, extra_body={"ignore_eos": True}
    )
    [record] = assert_exact(real, [raw.headers[REQUEST_ID]], before)
    assert raw.parse().choices[0].finish_reason == "length"
    assert record.completion_tokens == 11


def test_completion(real: RealVllm) -> None:
    before = real.counters()
    raw = real.client.completions.with_raw_response.create(
        model=real.model, prompt=PROMPT, max_tokens=8
    )
    assert_exact(real, [raw.headers[REQUEST_ID]], before)


def test_completion_stream_shows_the_client_no_usage(real: RealVllm) -> None:
    before = real.counters()
    with real.client.completions.with_streaming_response.create(
        model=real.model, prompt=PROMPT, max_tokens=8, stream=True
    ) as response:
        request_id, chunks = response.headers[REQUEST_ID], list(response.parse())
    assert_exact(real, [request_id], before)
    assert chunks and not any(usage_flags(chunks))


def test_completion_with_a_list_of_prompts(real: RealVllm) -> None:
    before = real.counters()
    raw = real.client.completions.with_raw_response.create(
        model=real.model,
        prompt=[PROMPT, "Antécédents :", "Traitement de sortie et suivi :"],
        max_tokens=5,
        extra_body={"ignore_eos": True},
    )
    [record] = assert_exact(real, [raw.headers[REQUEST_ID]], before)
    assert len(raw.parse().choices) == 3
    assert record.completion_tokens == 3 * 5


def test_completion_with_token_ids(real: RealVllm) -> None:
    before = real.counters()
    token_ids = [5, 17, 230, 1000, 42, 7, 99, 512]
    raw = real.client.completions.with_raw_response.create(
        model=real.model, prompt=token_ids, max_tokens=6
    )
    [record] = assert_exact(real, [raw.headers[REQUEST_ID]], before)
    assert record.prompt_tokens == len(token_ids)


def test_embeddings(real: RealVllm, embedding_served: str) -> None:
    before = real.counters(embedding_served)
    raw = real.client.embeddings.with_raw_response.create(
        model=EMBEDDING_MODEL, input=["Douleur thoracique atypique.", "Bilan biologique normal."]
    )
    records = real.gateway.records([raw.headers[REQUEST_ID]])
    counted = real.counters(embedding_served) - before
    assert [r.tokens_estimated for r in records] == [False]
    assert ledger_of(records) == counted
    assert counted.prompt > 0


def leave_after(chunks: Iterable[ChatCompletionChunk | Completion], wanted: int) -> int:
    """Read until ``wanted`` chunks carried text, then stop (the caller's ``with`` block then
    closes the connection mid-stream); the number of such chunks read."""
    seen = 0
    for chunk in chunks:
        for choice in chunk.choices:
            text = choice.delta.content if isinstance(choice, ChunkChoice) else choice.text
            seen += 1 if text else 0
        if seen >= wanted:
            break
    return seen


def assert_cut_stream_metered(
    record: LedgerRecord, counted: Counters, seen: int, *, asked: int, prompt_copies: int = 1
) -> None:
    """The ledger of a stream the client left holds vLLM's prompt and generated tokens."""
    measured = f"ledger {ledger_of([record])}, client saw {seen}, vLLM counted {counted}"
    assert record.client_disconnected
    assert counted.generation < asked, "vLLM finished before the client left: nothing was cut"
    assert record.prompt_tokens * prompt_copies == counted.prompt, measured
    # A range, not equality: vLLM counts every token whose output reached its HTTP layer before
    # it noticed the closed connection and aborted (later outputs are dropped uncounted), while
    # the gateway knows only the usage of the last chunks it read. Each chunk the client read
    # carried at least one token.
    assert seen <= record.completion_tokens <= counted.generation, measured
    assert not record.tokens_estimated, measured


def test_stream_the_client_leaves_holds_vllms_prompt_and_generated_tokens(
    real: RealVllm,
) -> None:
    before = real.counters()
    with real.client.chat.completions.with_streaming_response.create(
        model=real.model,
        messages=MESSAGES,
        stream=True,
        max_tokens=600,
        extra_body={"ignore_eos": True},
    ) as response:
        request_id = response.headers[REQUEST_ID]
        seen = leave_after(response.parse(), 3)
    [record] = real.gateway.records([request_id])
    assert_cut_stream_metered(record, real.counters() - before, seen, asked=600)


def test_stream_with_two_choices_the_client_leaves(real: RealVllm) -> None:
    before = real.counters()
    with real.client.chat.completions.with_streaming_response.create(
        model=real.model,
        messages=MESSAGES,
        stream=True,
        n=2,
        max_tokens=300,
        extra_body={"ignore_eos": True},
    ) as response:
        request_id = response.headers[REQUEST_ID]
        seen = leave_after(response.parse(), 6)
    [record] = real.gateway.records([request_id])
    # As in test_chat_with_two_choices: vLLM's counter holds the prompt once per choice.
    assert_cut_stream_metered(record, real.counters() - before, seen, asked=600, prompt_copies=2)


def test_completion_stream_of_several_prompts_the_client_leaves(real: RealVllm) -> None:
    before = real.counters()
    with real.client.completions.with_streaming_response.create(
        model=real.model,
        prompt=[PROMPT, "Antécédents médicaux et chirurgicaux du patient :"],
        stream=True,
        max_tokens=300,
        extra_body={"ignore_eos": True},
    ) as response:
        request_id = response.headers[REQUEST_ID]
        seen = leave_after(response.parse(), 6)
    [record] = real.gateway.records([request_id])
    assert_cut_stream_metered(record, real.counters() - before, seen, asked=600)


def test_abandoned_non_streamed_request_is_not_recorded_as_free(real: RealVllm) -> None:
    before = real.counters()
    impatient = real.gateway.sdk(timeout=1.0)
    with pytest.raises(openai.APITimeoutError):
        impatient.chat.completions.create(
            model=real.model, messages=MESSAGES, max_tokens=900, extra_body={"ignore_eos": True}
        )
    record = real.only_record()
    counted = real.counters() - before
    assert record.client_disconnected
    assert 0 < counted.generation < 900, "the request must be cut while vLLM generates"
    # A non-streamed answer that never came carries no usage: the ledger can only estimate the
    # prompt (vLLM's count is known only to vLLM), but never record it as free.
    assert record.prompt_tokens > 0, f"ledger {ledger_of([record])}, vLLM counted {counted}"
    assert record.tokens_estimated


def test_upstream_400_on_max_tokens_costs_nothing(real: RealVllm) -> None:
    before = real.counters()
    ids = []
    for stream in (False, True):
        with pytest.raises(openai.BadRequestError) as caught:
            real.client.chat.completions.create(
                model=real.model, messages=MESSAGES, max_tokens=5000, stream=stream
            )
        assert "max_tokens" in caught.value.message
        ids.append(caught.value.response.headers[REQUEST_ID])
    records = real.gateway.records(ids)
    assert [r.status_code for r in records] == [400, 400]
    assert ledger_of(records) == real.counters() - before == Counters(0, 0)


def test_prompt_too_long_costs_nothing(real: RealVllm) -> None:
    before = real.counters()
    with pytest.raises(openai.BadRequestError) as caught:
        real.client.completions.create(model=real.model, prompt="hello world " * 700, max_tokens=4)
    assert "maximum context length" in caught.value.message
    records = real.gateway.records([caught.value.response.headers[REQUEST_ID]])
    assert [r.status_code for r in records] == [400]
    assert ledger_of(records) == real.counters() - before == Counters(0, 0)
