"""Reading an upstream SSE stream event by event while forwarding it unchanged.

Only what the gateway needs is looked at: the ``usage`` object (for the ledger), whether a chunk
carries generated content (to estimate tokens when usage never comes), and malformed events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from billing.usage import Usage

_DATA = b"data:"
_DONE = b"[DONE]"


class MalformedEvent(Exception):
    """The upstream sent an event whose payload is not JSON."""


@dataclass(slots=True)
class StreamMeter:
    """Splits upstream bytes into SSE events and decides which to forward.

    ``keep_usage_chunk`` is False when the client did not ask for usage: the gateway always asks
    the upstream for it (to meter the request) and then drops the usage-only chunk.
    """

    keep_usage_chunk: bool
    rewrite: Callable[[dict[str, Any]], None] | None = None
    """Changes a chunk in place before it is forwarded (re-identification); None: verbatim."""
    chunk_cap: int | None = None
    """Chunks with choices that may be forwarded before more budget is granted (None: any)."""
    usage: Usage | None = None
    content_chunks: int = 0
    saw_done: bool = False
    _buffer: bytes = field(default=b"", repr=False)
    _held: list[bytes] = field(default_factory=list, repr=False)

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

        Raises :class:`MalformedEvent` on an event that is not valid JSON.
        """
        buffer = self._buffer + data
        if b"\n\n" not in buffer:
            self._buffer = buffer
            return b""
        *events, self._buffer = buffer.split(b"\n\n")
        return self._process(events)

    def _process(self, events: list[bytes]) -> bytes:
        out = []
        for event in events:
            if self._held:  # once holding, later events wait too: order is kept
                self._held.append(event)
                continue
            forwarded = self._forward(event)
            if forwarded is not None:
                out.append(forwarded)
                out.append(b"\n\n")
        return b"".join(out)

    def _forward(self, event: bytes) -> bytes | None:
        """The event to forward (possibly rewritten), or None to drop it."""
        if not event.startswith(_DATA):
            return event if event.strip() else None  # comments / keep-alives pass
        payload = event[len(_DATA) :].strip()
        if payload == _DONE:
            self.saw_done = True
            return event
        try:
            chunk: Any = orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise MalformedEvent(payload[:80].decode("utf-8", "replace")) from None
        if not isinstance(chunk, dict):
            raise MalformedEvent("event payload is not a JSON object")
        usage = Usage.from_openai(chunk.get("usage"))
        if usage is not None:
            self.usage = usage
        choices = chunk.get("choices")
        if choices:
            if self.chunk_cap is not None and self.content_chunks >= self.chunk_cap:
                self._held.append(event)  # would outgrow the budget held for it: wait
                return None
            self.content_chunks += 1
            if self.rewrite is None:
                return event
            self.rewrite(chunk)
            return _DATA + b" " + orjson.dumps(chunk)
        # A chunk without choices is vLLM's final usage chunk (or an error object).
        return event if usage is None or self.keep_usage_chunk else None
