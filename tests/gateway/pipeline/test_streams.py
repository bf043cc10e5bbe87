"""Streams in the request path: relayed, capped, broken — and recorded once whatever ends them."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from gateway.backends.fake import DONE, Stream, chat_stream
from gateway.http.sse_events import DEFAULT_MAX_EVENT_BYTES
from tests.gateway.pipeline.harness import InProcessGateway, in_process_gateway, make_catalog

pytestmark = pytest.mark.anyio


def events(text: str) -> list[dict[str, object]]:
    return [
        orjson.loads(line.removeprefix("data: "))
        for line in text.splitlines()
        if line.startswith("data: {")
    ]


async def test_a_stream_is_relayed_and_its_usage_recorded(gw: InProcessGateway) -> None:
    stream = await gw.sdk().chat.completions.create(
        model="llama-3-8b",
        messages=[{"role": "user", "content": "Bonjour"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, usage = [], None
    async for chunk in stream:
        if chunk.choices:
            pieces.append(chunk.choices[0].delta.content or "")
        usage = chunk.usage or usage
    assert "".join(pieces) == "ok" and usage is not None and usage.completion_tokens == 2
    [opened] = gw.fakes["onprem"].streams
    assert opened.released
    [record] = await gw.records(stream.response.headers["x-request-id"])
    assert record.streamed and record.completion_tokens == 2


async def test_a_stream_broken_midway_ends_with_an_error_event(gw: InProcessGateway) -> None:
    gw.fakes["onprem"].then(Stream(chat_stream(["a", "b", "c"]), break_after=2))
    response = await gw.chat(stream=True)
    assert response.status_code == 200  # the headers were sent before the failure
    assert [e.get("error") is not None for e in events(response.text)][-1]
    assert "[DONE]" not in response.text
    [opened] = gw.fakes["onprem"].streams
    assert opened.aborted and not opened.released
    [record] = await gw.records(response.headers["x-request-id"])
    assert record.error_class == "upstream_error" and record.completion_tokens >= 1


async def test_a_stream_without_its_end_marker_is_reported_incomplete(
    gw: InProcessGateway,
) -> None:
    gw.fakes["onprem"].then(Stream(chat_stream(["a"], done=False)))
    response = await gw.chat(stream=True)
    assert "ended the stream before it was complete" in response.text
    [record] = await gw.records(response.headers["x-request-id"])
    assert record.error_class == "upstream_error"


async def test_an_event_over_the_size_cap_stops_the_stream(gw: InProcessGateway) -> None:
    huge = b'data: {"choices":[{"index":0,"delta":{"content":"' + b"x" * DEFAULT_MAX_EVENT_BYTES
    gw.fakes["onprem"].then(Stream((*chat_stream(["a"], usage=False, done=False), huge, DONE)))
    response = await gw.chat(stream=True)
    assert "over the size limit" in response.text
    assert len(response.content) < DEFAULT_MAX_EVENT_BYTES  # never relayed
    [opened] = gw.fakes["onprem"].streams
    assert opened.aborted


async def test_an_open_ended_stream_stops_at_the_token_budget(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with in_process_gateway(
        make_catalog(),
        sqlite_url,
        tmp_path / "spool",
        default_max_tokens=8,
        quota_top_up_tokens=4,
    ) as gw:
        content = "Bonjour"
        prompt_bound = len(content.encode()) + 16 * 2  # max_prompt_tokens for one message
        budget = prompt_bound + 8 + 4 + 4  # the first hold plus two top-ups
        await gw.set_quota(level="user", username="dr.test", budget_tokens=budget, period="day")
        gw.fakes["onprem"].then(Stream(chat_stream(["t"] * 60)))
        response = await gw.chat(content, stream=True, max_tokens=None)
        pieces = [e for e in events(response.text) if e.get("choices")]
        assert len(pieces) == 1 + 16  # the role, then8 held + 4 + 4 topped up: nothing beyond
        assert "budget was exhausted" in response.text
        [opened] = gw.fakes["onprem"].streams
        assert opened.aborted
