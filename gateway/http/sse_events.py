"""Server-sent events as the WHATWG HTML specification defines them, parsed from raw bytes.

Lines end with LF, CR or CRLF (a CR at the end of one chunk and an LF at the start of the next
are one line ending); a blank line ends an event; ``:`` starts a comment; ``data:`` lines are
joined with LF; ``event:``, ``id:`` and ``retry:`` are kept; unknown fields are ignored. One
leading space of a value is removed. Events are re-emitted in one canonical form (LF endings),
so the client sees the same events whatever framing the model server used.

Memory is bounded: a line, or an event, longer than ``max_event_bytes`` raises
:class:`EventTooLong` instead of growing the buffer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

_LINE_END = re.compile(rb"\r\n|\r|\n")

DEFAULT_MAX_EVENT_BYTES = 1024 * 1024
"""1 MiB: far above any chunk of a token stream (vLLM's are well under 4 KiB with logprobs)."""


class EventTooLong(Exception):
    """An event (or a line not yet ended) exceeds the parser's bound."""


@dataclass(slots=True)
class Event:
    """One event block: its ``data`` (None when the block had no ``data:`` line) and the
    other fields and comments that came with it."""

    data: bytes | None = None
    event: bytes | None = None
    id: bytes | None = None
    retry: bytes | None = None
    comments: list[bytes] = field(default_factory=list)

    def encode(self, data: bytes | None = None) -> bytes:
        """The event in canonical form, with ``data`` in place of its own when given."""
        payload = self.data if data is None else data
        plain = not self.comments and self.event is None and self.id is None and self.retry is None
        if plain and payload is not None and b"\n" not in payload:  # the usual: one data line
            return b"data: " + payload + b"\n\n"
        lines = list(self.comments)
        for name, value in ((b"event", self.event), (b"id", self.id), (b"retry", self.retry)):
            if value is not None:
                lines.append(name + b": " + value)
        if payload is not None:
            lines.extend(b"data: " + line for line in payload.split(b"\n"))
        return b"\n".join(lines) + b"\n\n"


@dataclass(slots=True)
class EventParser:
    """Turns chunks of bytes into complete :class:`Event` blocks, keeping the rest."""

    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    _partial: bytes = b""
    _skip_lf: bool = False
    _current: Event = field(default_factory=Event)
    _data: list[bytes] = field(default_factory=list)
    _size: int = 0

    def feed(self, chunk: bytes) -> Iterator[Event]:
        """The events completed by ``chunk``; raises :class:`EventTooLong` past the bound."""
        if not chunk:
            return
        if self._skip_lf and chunk[:1] == b"\n":
            chunk = chunk[1:]
        self._skip_lf = chunk[-1:] == b"\r"
        buffer = self._partial + chunk
        lines = _LINE_END.split(buffer) if b"\r" in buffer else buffer.split(b"\n")
        self._partial = lines.pop()
        if len(self._partial) + self._size > self.max_event_bytes:
            raise EventTooLong(f"an event exceeds {self.max_event_bytes} bytes")
        for line in lines:
            if line:
                self._field(line)
            elif self._data or self._has_fields():
                yield self._dispatch()

    def _field(self, line: bytes) -> None:
        self._size += len(line) + 1
        if self._size > self.max_event_bytes:
            raise EventTooLong(f"an event exceeds {self.max_event_bytes} bytes")
        if line[:6] == b"data: ":  # the usual line, first
            self._data.append(line[6:])
            return
        if line[:1] == b":":
            self._current.comments.append(line)
            return
        name, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._current.event = value
        elif name == b"id" and b"\0" not in value:  # the specification ignores such ids
            self._current.id = value
        elif name == b"retry" and value.isdigit():
            self._current.retry = value
        # Other field names are ignored, as the specification requires.

    def _has_fields(self) -> bool:
        event = self._current
        return bool(event.comments) or any(
            value is not None for value in (event.event, event.id, event.retry)
        )

    def _dispatch(self) -> Event:
        event = self._current
        if self._data:
            event.data = b"\n".join(self._data)
        self._current, self._data, self._size = Event(), [], 0
        return event
