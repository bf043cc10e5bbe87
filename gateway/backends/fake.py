"""A scripted :class:`~gateway.backends.protocol.Backend`, for in-process tests of the gateway.

Like a mock transport for an HTTP client: each call takes the next step of the script (an
answer, a stream, a failure, with an optional delay) or, once the script is spent, a default
OpenAI-format answer; every call is kept in :attr:`FakeBackend.sent`, so a test can check what
left the gateway (the body after pseudonymisation, the replica tried, the model named).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from gateway.backends.forward import Forward
from gateway.backends.protocol import (
    AnswerTooLarge,
    ByteStream,
    ReplicaUnreachable,
    StreamBroken,
    UpstreamReply,
)

_JSON = "application/json"
DONE = b"data: [DONE]\n\n"


@dataclass(frozen=True, slots=True)
class Reply:
    """A complete answer (to a stream request, an error answer unless ``status`` is 200)."""

    body: bytes
    status: int = 200
    delay_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Stream:
    """A 200 stream of ``events`` (SSE bytes), ``delay_s`` before each; with ``break_after``,
    a :class:`StreamBroken` after that many events."""

    events: tuple[bytes, ...]
    delay_s: float = 0.0
    break_after: int | None = None


@dataclass(frozen=True, slots=True)
class Unreachable:
    """Nothing came back (refused, or timed out with ``timed_out``)."""

    timed_out: bool = False
    delay_s: float = 0.0


@dataclass(frozen=True, slots=True)
class TooLarge:
    """An answer over the gateway's size limit."""

    limit: int = 1024


@dataclass(frozen=True, slots=True)
class Echo:
    """Answers with the text of the request's last message (a stream: word by word)."""


Step = Reply | Stream | Unreachable | TooLarge | Echo


@dataclass(frozen=True, slots=True)
class Sent:
    """One call the backend received."""

    target: str
    model: str | None
    endpoint: str
    body: dict[str, Any]
    stream: bool


def chat_answer(
    content: str = "ok", *, model: str = "fake", prompt_tokens: int = 7, completion_tokens: int = 2
) -> bytes:
    """An OpenAI chat completion with its usage."""
    return orjson.dumps(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": _usage(prompt_tokens, completion_tokens),
        }
    )


def chat_stream(
    pieces: Iterable[str] = ("o", "k"),
    *,
    model: str = "fake",
    prompt_tokens: int = 7,
    usage: bool = True,
    done: bool = True,
) -> tuple[bytes, ...]:
    """OpenAI chat stream events as vLLM sends them: the role, one per piece, a usage chunk,
    ``[DONE]``."""
    texts = list(pieces)
    role = {"role": "assistant", "content": ""}
    events = [_event(model, [{"index": 0, "delta": role, "finish_reason": None}])]
    events += [
        _event(model, [{"index": 0, "delta": {"content": text}, "finish_reason": None}])
        for text in texts
    ]
    if usage:
        events.append(_event(model, [], _usage(prompt_tokens, len(texts))))
    if done:
        events.append(DONE)
    return tuple(events)


def error_answer(status: int, message: str) -> Reply:
    """An OpenAI-style error answer."""
    body = {"error": {"message": message, "type": "error", "code": status}}
    return Reply(orjson.dumps(body), status)


class FakeBackend:
    """Answers from a script, then with :func:`chat_answer` / :func:`chat_stream`."""

    polled = False

    def __init__(
        self, *script: Step, targets: Iterable[str] = ("fake",), provider: str = "vllm"
    ) -> None:
        self.provider = provider
        self.script: deque[Step] = deque(script)
        self.sent: list[Sent] = []
        self.streams: list[FakeStream] = []
        self._targets = list(targets)

    def reset(self) -> None:
        """Forget the script and what was received (a fresh fake for the next test)."""
        self.script.clear()
        self.sent.clear()
        self.streams.clear()

    def then(self, *steps: Step) -> FakeBackend:
        """Add steps to the script."""
        self.script.extend(steps)
        return self

    def targets(self) -> list[str]:
        return list(self._targets)

    async def complete(self, target: str, model: str | None, forward: Forward) -> UpstreamReply:
        step = await self._take(target, model, forward, stream=False)
        if isinstance(step, Stream):
            raise TypeError("a Stream step answered a non-streaming request")
        return UpstreamReply(step.status, step.body, _JSON)

    async def open_stream(
        self, target: str, model: str | None, forward: Forward
    ) -> ByteStream | UpstreamReply:
        step = await self._take(target, model, forward, stream=True)
        if isinstance(step, Reply):
            return UpstreamReply(step.status, step.body, _JSON)
        opened = FakeStream(step)
        self.streams.append(opened)
        return opened

    async def close(self) -> None:
        """Nothing to close."""

    async def _take(
        self, target: str, model: str | None, forward: Forward, *, stream: bool
    ) -> Reply | Stream:
        self.sent.append(Sent(target, model, forward.endpoint, forward.json_for(model), stream))
        step = self.script.popleft() if self.script else None
        if step is None:
            return Stream(chat_stream()) if stream else Reply(chat_answer())
        if isinstance(step, Reply | Unreachable) and step.delay_s:
            await asyncio.sleep(step.delay_s)
        if isinstance(step, Unreachable):
            raise ReplicaUnreachable("fake: unreachable", timed_out=step.timed_out)
        if isinstance(step, TooLarge):
            raise AnswerTooLarge(step.limit)
        if isinstance(step, Echo):
            text = _last_message(self.sent[-1].body)
            if stream:
                return Stream(chat_stream(_words(text)))
            return Reply(chat_answer(text))
        return step


@dataclass(eq=False)
class FakeStream:
    """An open scripted stream; ``released``/``aborted`` say how the gateway ended it."""

    step: Stream
    released: bool = False
    aborted: bool = False
    sent_events: int = field(default=0)

    async def chunks(self) -> AsyncIterator[bytes]:
        for index, event in enumerate(self.step.events):
            if self.step.break_after is not None and index >= self.step.break_after:
                raise StreamBroken("fake: connection reset")
            if self.step.delay_s:
                await asyncio.sleep(self.step.delay_s)
            self.sent_events += 1
            yield event
        if self.step.break_after is not None and self.step.break_after >= len(self.step.events):
            raise StreamBroken("fake: connection reset")

    def release(self) -> None:
        self.released = True

    def abort(self) -> None:
        self.aborted = True


def _last_message(body: dict[str, Any]) -> str:
    messages = body.get("messages") or [{}]
    content = messages[-1].get("content") if isinstance(messages[-1], dict) else None
    return content if isinstance(content, str) else ""


def _words(text: str) -> list[str]:
    """``text`` in pieces that join back to it exactly."""
    pieces = text.split(" ")
    return [piece + " " for piece in pieces[:-1]] + pieces[-1:]


def _event(model: str, choices: list[dict[str, Any]], usage: dict[str, int] | None = None) -> bytes:
    chunk: dict[str, Any] = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": choices,
    }
    if usage is not None:
        chunk["usage"] = usage
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
