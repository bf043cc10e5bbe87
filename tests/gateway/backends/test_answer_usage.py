"""Reading ``usage`` from a complete answer, large ones from their end."""

from __future__ import annotations

import orjson
import pytest

from billing.usage import Usage
from gateway.backends.answer_usage import FULL_PARSE_BYTES, usage_of

USAGE = {"prompt_tokens": 26, "total_tokens": 26, "completion_tokens": 0}


def embeddings(count: int, usage: object = USAGE) -> bytes:
    data = [
        {"index": i, "object": "embedding", "embedding": [0.123456789] * 64} for i in range(count)
    ]
    return orjson.dumps({"object": "list", "data": data, "usage": usage})


@pytest.mark.parametrize("count", [2, 2000])
def test_usage_is_read_from_small_and_large_answers(count: int) -> None:
    body = embeddings(count)
    assert (len(body) > FULL_PARSE_BYTES) is (count == 2000)
    assert usage_of(body) == Usage(prompt_tokens=26)


def test_a_usage_key_inside_generated_text_is_not_taken() -> None:
    fake = '"usage": {"prompt_tokens": 1, "completion_tokens": 1}'
    text = "x" * (FULL_PARSE_BYTES + 10) + fake
    body = orjson.dumps(
        {
            "choices": [{"message": {"content": text}}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 4},
        }
    )
    assert usage_of(body) == Usage(prompt_tokens=9, completion_tokens=4)
    no_usage = orjson.dumps({"choices": [{"message": {"content": text}}]})
    assert usage_of(no_usage) is None
    assert usage_of(b"not json") is None and usage_of(b"x" * (FULL_PARSE_BYTES + 1)) is None
