"""Reading an upstream SSE stream event by event while forwarding it.

Events are parsed as the specification says (:mod:`gateway.http.sse_events`), whatever their line
endings and whether or not they carry ``event:`` / ``id:`` lines, and every event with data is
metered and counted against the stream's cap alike. Only what the gateway needs is looked at:
the ``usage`` object (for the ledger), whether a chunk carries generated content (the cap, and
estimates when usage never comes), and malformed events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from billing.usage import Usage
from gateway.http.sse_events import DEFAULT_MAX_EVENT_BYTES, Event, EventParser, EventTooLong

_DONE = b"[DONE]"

__all__ = ["EventTooLong", "MalformedEvent", "StreamMeter", "choices_per_prompt"]


def choices_per_prompt(body: dict[str, Any]) -> int:
    """The request's ``n`` (choices per prompt); 1 when absent or not a positive integer."""
    n = body.get("n")
    return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1


class MalformedEvent(Exception):
    """The upstream sent an event whose payload is not JSON."""


@dataclass(slots=True)
class StreamMeter:
    """Splits upstream bytes into SSE events and decides which to forward.

    ``keep_usage_chunk`` is False when the client did not ask for usage: the gateway always asks
    the upstream for it (to meter the request) and then drops the usage-only chunk.
    ``strip_chunk_usage`` is True when the gateway asked a vLLM server for usage on every chunk
    (so that a stream cut short is billed with the server's counts) and the client did not: the
    per-chunk ``usage`` is removed before the chunk is forwarded.
    """

    keep_usage_chunk: bool
    rewrite: Callable[[dict[str, Any]], None] | None = None
    """Changes a chunk in place before it is forwarded (re-identification); None: verbatim."""
    chunk_cap: int | None = None
    """Chunks with choices that may be forwarded before more budget is granted (None: any)."""
    strip_chunk_usage: bool = False
    choices_per_prompt: int = 1
    """``n``: choice ``i`` answers prompt ``i // n`` (completions with a list of prompts)."""
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    usage: Usage | None = None
    content_chunks: int = 0
    saw_done: bool = False
    _parser: EventParser | None = field(default=None, repr=False)
    _held: list[Event] = field(default_factory=list, repr=False)
    _completion_by_choice: dict[int, int] = field(default_factory=dict, repr=False)
    _prompt_by_prompt: dict[int, int] = field(default_factory=dict, repr=False)

    @property
    def holding(self) -> bool:
        """True when events wait for :meth:`release` (the cap was reached mid-stream)."""
        return bool(self._held)

    def release(self, more_chunks: int) -> bytes:
        """Raise the cap by ``more_chunks`` and return the held events that may now go out."""
        assert self.chunk_cap is not None
        self.chunk_cap += more_chunks
        held, self._held = self._held, []
        return self._process(held)

    def feed(self, data: bytes) -> bytes:
        """Consume upstream bytes; return the complete events to forward now.

        Raises :class:`MalformedEvent` on an event that is not valid JSON and
        :class:`EventTooLong` on an event over ``max_event_bytes``.
        """
        if self._parser is None:
            self._parser = EventParser(self.max_event_bytes)
        return self._process(list(self._parser.feed(data)))

    def _process(self, events: list[Event]) -> bytes:
        out = []
        for event in events:
            if self._held:  # once holding, later events wait too: order is kept
                self._held.append(event)
                continue
            forwarded = self._forward(event)
            if forwarded is not None:
                out.append(forwarded)
        return b"".join(out)

    def _forward(self, event: Event) -> bytes | None:
        """The event to forward (possibly rewritten), or None to drop it."""
        if event.data is None:
            return event.encode()  # comments, keep-alives, a lone id: nothing to meter
        payload = event.data.strip()
        if payload == _DONE:
            self.saw_done = True
            return event.encode()
        try:
            chunk: Any = orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise MalformedEvent(payload[:80].decode("utf-8", "replace")) from None
        if not isinstance(chunk, dict):
            raise MalformedEvent("event payload is not a JSON object")
        usage = Usage.from_openai(chunk.get("usage"))
        choices = chunk.get("choices")
        if not choices:
            # A chunk without choices is vLLM's final usage chunk (or an error object).
            if usage is not None:
                self.usage = usage
            return event.encode() if usage is None or self.keep_usage_chunk else None
        if self.chunk_cap is not None and self.content_chunks >= self.chunk_cap:
            self._held.append(event)  # would outgrow the budget held for it: wait
            return None
        if usage is not None:
            self._count_running(usage, choices)
        self.content_chunks += 1
        changed = False
        if self.strip_chunk_usage and "usage" in chunk:
            del chunk["usage"]
            changed = True
        if self.rewrite is not None:
            self.rewrite(chunk)
            changed = True
        return event.encode(orjson.dumps(chunk) if changed else None)

    def _count_running(self, usage: Usage, choices: Any) -> None:
        """Keep the server's running count from a content chunk (continuous usage stats).

        With several choices, vLLM counts each choice's tokens on its own chunks, and each
        chunk carries the prompt count of its own prompt: the sums over choices and over prompts
        are what the final usage chunk would have said (a prompt counted once, whatever ``n``).
        """
        index = 0
        if isinstance(choices, list) and len(choices) == 1 and isinstance(choices[0], dict):
            found = choices[0].get("index", 0)
            index = found if isinstance(found, int) else 0
        self._completion_by_choice[index] = usage.completion_tokens
        self._prompt_by_prompt[index // max(self.choices_per_prompt, 1)] = usage.prompt_tokens
        if len(self._completion_by_choice) == 1:
            self.usage = usage  # one choice: the server's figures as they are
            return
        self.usage = Usage(
            prompt_tokens=sum(self._prompt_by_prompt.values()),
            completion_tokens=sum(self._completion_by_choice.values()),
            cached_tokens=usage.cached_tokens,
        )
