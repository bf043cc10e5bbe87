"""Opt-in: a mixed batch through the gateway to a REAL vLLM; ledger tokens = vLLM's counters."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from tests.real_vllm.conftest import RealVllm

pytestmark = pytest.mark.vllm


def test_ledger_tokens_equal_vllm_counter_deltas(real: RealVllm) -> None:
    client = real.client
    messages: list[Any] = [{"role": "user", "content": "Résume le dossier en trois points."}]
    before = real.counters()
    ids = []
    for max_tokens in (5, 17):
        raw = client.chat.completions.with_raw_response.create(
            model=real.model, messages=messages, max_tokens=max_tokens
        )
        ids.append(raw.headers["x-request-id"])
        with client.chat.completions.with_streaming_response.create(
            model=real.model, messages=messages, max_tokens=max_tokens, stream=True
        ) as stream:
            ids.append(stream.headers["x-request-id"])
            for _ in stream.parse():
                pass
    completion = client.completions.with_raw_response.create(
        model=real.model, prompt="Le patient", max_tokens=9
    )
    ids.append(completion.headers["x-request-id"])
    records = real.gateway.records(ids)
    counted = real.counters() - before

    assert len(records) == len(ids)
    assert not any(r.tokens_estimated for r in records)
    assert sum(r.prompt_tokens for r in records) == counted.prompt
    assert sum(r.completion_tokens for r in records) == counted.generation


def test_real_vllm_errors_pass_through(real: RealVllm) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        real.client.chat.completions.create(
            model=real.model, messages=[{"role": "user", "content": "x"}], max_tokens=10**6
        )
    assert "max_tokens" in caught.value.message
