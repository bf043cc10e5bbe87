"""Reading a reply's usage without turning the whole reply into Python objects."""

from __future__ import annotations

import tracemalloc

import orjson

from gateway.reply_usage import usage_of_reply

USAGE = {"prompt_tokens": 7, "total_tokens": 7, "completion_tokens": 0}


def embeddings_reply(inputs: int, dim: int) -> bytes:
    data = [
        {"index": i, "object": "embedding", "embedding": [0.001 * j for j in range(dim)]}
        for i in range(inputs)
    ]
    return orjson.dumps({"id": "e", "object": "list", "data": data, "usage": USAGE})


def test_the_usage_of_a_large_reply_is_read_without_parsing_the_vectors() -> None:
    body = embeddings_reply(inputs=64, dim=1024)  # about 1.3 MB of JSON numbers
    tracemalloc.start()
    try:
        assert usage_of_reply(body) == USAGE
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024  # parsing it whole makes 65,536 floats (over 2 MB)


def test_usage_anywhere_else_is_still_found() -> None:
    first = {"usage": USAGE, "choices": [{"text": "a", "logprobs": {"top": [{"usage": -0.5}]}}]}
    assert usage_of_reply(orjson.dumps(first)) == USAGE
    nested_last = {"choices": [], "meta": {"usage": {"x": 1}}}
    assert usage_of_reply(orjson.dumps(nested_last)) is None
    quoted = {"choices": [{"text": 'the "usage": {} field'}], "usage": USAGE}
    assert usage_of_reply(orjson.dumps(quoted)) == USAGE
    as_value = {"usage": USAGE, "choices": [{"text": "usage"}]}
    assert usage_of_reply(orjson.dumps(as_value)) == USAGE
    pretty = b'{"data": [],\n  "usage" : {"prompt_tokens": 7, "total_tokens": 7}\n}\n'
    assert usage_of_reply(pretty) == {"prompt_tokens": 7, "total_tokens": 7}


def test_a_reply_without_usage_or_not_json_has_none() -> None:
    assert usage_of_reply(b'{"data": []}') is None
    assert usage_of_reply(b'{"usage": {"prompt_tokens": 1}') is None  # cut short
    assert usage_of_reply(b"not json") is None
    assert usage_of_reply(b'["usage"]') is None
