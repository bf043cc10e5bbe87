"""The stream meter: usage, dropped usage chunks, malformed events and the budget cap."""

from __future__ import annotations

import orjson
import pytest

from gateway.sse import MalformedEvent, StreamMeter


def event(payload: object) -> bytes:
    return b"data: " + (payload if isinstance(payload, bytes) else orjson.dumps(payload)) + b"\n\n"


def content(text: str) -> bytes:
    return event({"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]})


USAGE = event({"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 5}})
DONE = event(b"[DONE]")
STREAM = b"".join(content(c) for c in "abcde") + USAGE + DONE


def test_usage_chunk_is_read_and_dropped_unless_asked() -> None:
    meter = StreamMeter(keep_usage_chunk=False)
    out = meter.feed(STREAM[:13]) + meter.feed(STREAM[13:])  # split mid-event
    assert out == STREAM.replace(USAGE, b"")
    assert meter.usage is not None and meter.usage.completion_tokens == 5
    assert meter.saw_done and meter.content_chunks == 5
    kept = StreamMeter(keep_usage_chunk=True)
    assert kept.feed(STREAM) == STREAM


def test_cap_holds_chunks_until_released_and_keeps_order() -> None:
    meter = StreamMeter(keep_usage_chunk=True, chunk_cap=3)
    out = meter.feed(STREAM)
    assert out == content("a") + content("b") + content("c")
    assert meter.holding and meter.content_chunks == 3
    assert meter.release(1) == content("d")
    assert meter.holding
    assert meter.release(5) == content("e") + USAGE + DONE
    assert not meter.holding


def test_malformed_event_is_reported() -> None:
    with pytest.raises(MalformedEvent):
        StreamMeter(keep_usage_chunk=False).feed(b"data: {not json\n\n")
