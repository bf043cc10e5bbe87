"""An external provider's stream (through litellm), presented to the relay like a vLLM one.

The stream relay (``gateway.http.stream_response``) reads ``upstream.content.iter_any()`` and then
releases or closes the response; this adapter gives a litellm stream the same surface, so both
kinds of upstream share one relay, one meter and one ledger path.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator


class ProviderStreamResponse:
    """The first SSE bytes (already received: the provider answered) and the rest to come."""

    status = 200

    def __init__(self, first: bytes, rest: AsyncGenerator[bytes, None]) -> None:
        self._first = first
        self._rest = rest
        self._closing: asyncio.Task[None] | None = None

    @property
    def content(self) -> ProviderStreamResponse:
        return self

    async def iter_any(self) -> AsyncIterator[bytes]:
        if self._first:
            yield self._first
        async for chunk in self._rest:
            yield chunk

    def release(self) -> None:
        self._close()

    def close(self) -> None:
        self._close()

    def _close(self) -> None:
        # Closing the generator closes the provider connection (the client left, or the
        # stream ended); it must run even though the relay's own task is finishing.
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._rest.aclose())
