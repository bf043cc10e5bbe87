"""The stream meter: usage, dropped usage chunks, malformed events and the budget cap."""

from __future__ import annotations

import orjson
import pytest

from gateway.http.sse import EventTooLong, MalformedEvent, StreamMeter, choices_per_prompt


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


def framed(stream: bytes, line_end: bytes) -> bytes:
    return stream.replace(b"\n", line_end)


@pytest.mark.parametrize("line_end", [b"\r\n", b"\r", b"\n"])
def test_every_line_ending_of_the_specification_is_read(line_end: bytes) -> None:
    meter = StreamMeter(keep_usage_chunk=True)
    upstream = framed(STREAM, line_end)
    # Byte by byte: a CR ending one chunk and the LF starting the next are one line ending.
    out = b"".join(meter.feed(upstream[i : i + 1]) for i in range(len(upstream)))
    assert out == STREAM
    assert meter.usage is not None and meter.usage.prompt_tokens == 7
    assert meter.saw_done and meter.content_chunks == 5


def test_events_named_with_event_lines_are_metered_and_capped() -> None:
    named = b"event: message\nid: 4\n" + content("a") + b"event: message\n" + content("b")
    meter = StreamMeter(keep_usage_chunk=False, chunk_cap=1)
    out = meter.feed(named + b"event: message\n" + USAGE)
    assert out == b"event: message\nid: 4\n" + content("a")
    assert meter.holding and meter.content_chunks == 1
    assert meter.release(1) == b"event: message\n" + content("b")  # usage chunk dropped
    assert meter.usage is not None and meter.usage.completion_tokens == 5


def test_comments_and_lone_fields_pass_and_retry_needs_digits() -> None:
    meter = StreamMeter(keep_usage_chunk=True)
    out = meter.feed(b": ping\r\n\r\nretry: 10\r\n\r\nretry: soon\nid: 3\n\n" + DONE)
    assert out == b": ping\n\nretry: 10\n\nid: 3\n\n" + DONE
    assert meter.content_chunks == 0 and meter.saw_done


def test_multi_line_data_is_joined_with_line_feeds() -> None:
    chunk = {"choices": [{"index": 0, "delta": {"content": "x"}}]}
    pretty = orjson.dumps(chunk, option=orjson.OPT_INDENT_2)
    upstream = b"".join(b"data: " + line + b"\r\n" for line in pretty.split(b"\n")) + b"\r\n"
    meter = StreamMeter(keep_usage_chunk=True)
    out = meter.feed(upstream)
    assert out == b"".join(b"data: " + line + b"\n" for line in pretty.split(b"\n")) + b"\n"
    assert meter.content_chunks == 1


def test_an_over_long_event_stops_the_stream_without_buffering_it() -> None:
    meter = StreamMeter(keep_usage_chunk=True, max_event_bytes=1024)
    meter.feed(content("a"))
    with pytest.raises(EventTooLong):
        for _ in range(100):  # a line that never ends
            meter.feed(b"data: " + b"x" * 100)
    many_lines = StreamMeter(keep_usage_chunk=True, max_event_bytes=1024)
    with pytest.raises(EventTooLong):
        many_lines.feed(b"data: 0123456789\n" * 100)


def test_continuous_usage_is_kept_and_stripped_from_chunks_the_client_sees() -> None:
    def counted(text: str, completion: int, index: int = 0) -> bytes:
        usage = {"prompt_tokens": 79, "completion_tokens": completion}
        choice = {"index": index, "delta": {"content": text}, "finish_reason": None}
        return event({"choices": [choice], "usage": usage})

    meter = StreamMeter(keep_usage_chunk=False, strip_chunk_usage=True)
    out = meter.feed(counted("a", 1) + counted("b", 2))
    assert out == content("a") + content("b")
    assert meter.usage is not None and meter.usage.prompt_tokens == 79  # a cut stream's bill
    assert meter.usage.completion_tokens == 2
    two_choices = StreamMeter(keep_usage_chunk=True)
    assert two_choices.feed(counted("a", 1, 0) + counted("b", 1, 1)) == counted("a", 1, 0) + (
        counted("b", 1, 1)
    )
    assert two_choices.usage is not None and two_choices.usage.completion_tokens == 2


def test_continuous_usage_adds_each_prompts_count_once() -> None:
    # vLLM's completions with a list of prompts: choice i answers prompt i // n, and each chunk
    # carries its own prompt's count. A stream cut here owes both prompts (20 + 37), once each.
    def counted(index: int, prompt: int, completion: int) -> bytes:
        choice = {"index": index, "text": "x", "finish_reason": None}
        usage = {"prompt_tokens": prompt, "completion_tokens": completion}
        return event({"choices": [choice], "usage": usage})

    two_prompts_n2 = StreamMeter(keep_usage_chunk=False, choices_per_prompt=2)
    two_prompts_n2.feed(
        counted(0, 20, 1) + counted(1, 20, 1) + counted(2, 37, 1) + counted(3, 37, 1)
    )
    two_prompts_n2.feed(counted(0, 20, 2) + counted(2, 37, 2))
    assert two_prompts_n2.usage is not None
    assert (two_prompts_n2.usage.prompt_tokens, two_prompts_n2.usage.completion_tokens) == (57, 6)
    # Chat with n=2: one prompt for both choices, counted once (as vLLM's usage does).
    chat_n2 = StreamMeter(keep_usage_chunk=False, choices_per_prompt=2)
    chat_n2.feed(counted(0, 18, 1) + counted(1, 18, 1) + counted(0, 18, 2))
    assert chat_n2.usage is not None
    assert (chat_n2.usage.prompt_tokens, chat_n2.usage.completion_tokens) == (18, 3)


@pytest.mark.parametrize(("body", "n"), [({}, 1), ({"n": 3}, 3), ({"n": 0}, 1), ({"n": True}, 1)])
def test_choices_per_prompt_is_a_positive_n(body: dict[str, object], n: int) -> None:
    assert choices_per_prompt(body) == n
