"""What every upstream kind offers the router: one protocol, one reply type, one stream type.

A :class:`Backend` serves one deployment (a vLLM pass-through, a provider reached through
litellm, a scripted fake in tests). The router's attempt loop (retries, failover, health, retry
budget) only ever sees these types, so it never asks which kind of upstream it is talking to.

The contract that makes failover safe: until a backend has returned (a reply, or an open
stream), nothing reached the client. A backend raises :class:`ReplicaUnreachable` when this
replica cannot answer now (another may), returns an :class:`UpstreamReply` for any answer it
did get (the router decides whether a 5xx is retried), and its stream raises
:class:`StreamBroken` once the answer has begun (never retried: bytes were sent).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from gateway.backends.forward import Forward


class ReplicaUnreachable(Exception):
    """Nothing was received from the replica (refused, reset, timed out before the headers).

    Safe to retry on another replica: no byte reached the client.
    """

    def __init__(self, reason: str, *, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.timed_out = timed_out


class AnswerTooLarge(Exception):
    """The replica's answer is larger than the gateway accepts (it was not read to its end)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"answer over {limit} bytes")
        self.limit = limit


class StreamBroken(Exception):
    """A stream failed after it began (reset, provider error, a pause longer than ``idle_s``)."""

    def __init__(self, reason: str, *, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.timed_out = timed_out


@dataclass(frozen=True, slots=True)
class UpstreamReply:
    """A complete answer: a non-streaming one, or the error answer to a stream request."""

    status: int
    body: bytes
    content_type: str


class ByteStream(Protocol):
    """An open 200 stream of OpenAI-format SSE bytes, ending with ``data: [DONE]``.

    Exactly one of :meth:`release` (read to its end: the connection may be reused) or
    :meth:`abort` (stopped early: the upstream must stop generating) is called when done.
    """

    def chunks(self) -> AsyncIterator[bytes]:
        """The bytes as they arrive (not aligned on events); raises :class:`StreamBroken` or
        ``TimeoutError`` when the upstream fails mid-answer."""
        ...

    def release(self) -> None: ...

    def abort(self) -> None: ...


class Backend(Protocol):
    """One deployment's way of answering; ``target`` is one of :meth:`targets` (a replica's
    base URL, or a provider's logical name) and ``model`` the catalog model the request names
    there (a fallback's), None for the requested one."""

    @property
    def provider(self) -> str:
        """Who serves the answers (``gen_ai.provider.name``): spans, metrics and billing."""
        ...

    @property
    def polled(self) -> bool:
        """True when its replicas serve ``/health`` and ``/metrics`` to the replica monitor."""
        ...

    def targets(self) -> list[str]:
        """The replicas the router balances over (one each)."""
        ...

    async def complete(self, target: str, model: str | None, forward: Forward) -> UpstreamReply:
        """The whole answer; raises :class:`ReplicaUnreachable` or :class:`AnswerTooLarge`."""
        ...

    async def open_stream(
        self, target: str, model: str | None, forward: Forward
    ) -> ByteStream | UpstreamReply:
        """The stream once the upstream said 200, else its error answer (read, bounded);
        raises :class:`ReplicaUnreachable`."""
        ...

    async def close(self) -> None:
        """Close what this backend opened itself (shared pools are their owner's)."""
        ...
