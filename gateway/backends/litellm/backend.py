"""An external provider's deployment, reached through litellm, as a ``Backend``.

A provider is one logical replica (``litellm:<provider model>``): it shares the router's picker,
attempt count, health and ejection with vLLM replicas, but has no ``/metrics`` to poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator

from gateway.backends.forward import Forward
from gateway.backends.litellm.client import LiteLLMClient
from gateway.backends.litellm.errors import ProviderRejected
from gateway.backends.protocol import ByteStream, UpstreamReply
from gateway.catalog import Deployment

_JSON = "application/json"


class LiteLLMBackend:
    """One provider deployment; ``api_key`` is the gateway's secret for it (None: litellm's
    environment)."""

    polled = False

    def __init__(self, deployment: Deployment, client: LiteLLMClient, api_key: str | None) -> None:
        self._deployment = deployment
        self._client = client
        self._api_key = api_key
        self.provider = deployment.provider

    def targets(self) -> list[str]:
        return [f"litellm:{self._deployment.litellm_model}"]

    async def complete(self, target: str, model: str | None, forward: Forward) -> UpstreamReply:
        return await self._client.complete(
            self._deployment, forward.endpoint, forward.json_for(model), self._api_key
        )

    async def open_stream(
        self, target: str, model: str | None, forward: Forward
    ) -> ByteStream | UpstreamReply:
        """Open the provider stream and wait for its first event, so that failover stays
        possible until then; a refusal comes back as its error answer."""
        events = self._client.stream(
            self._deployment, forward.endpoint, forward.json_for(model), self._api_key
        )
        try:
            first = await anext(events)
        except ProviderRejected as exc:
            await events.aclose()
            return UpstreamReply(exc.status, exc.body, _JSON)
        except StopAsyncIteration:
            first = b""
        return ProviderStream(first, events)

    async def close(self) -> None:
        """Nothing of its own: the litellm client is closed by its owner."""


class ProviderStream:
    """The first SSE bytes (already received: the provider answered) and the rest to come."""

    def __init__(self, first: bytes, rest: AsyncGenerator[bytes, None]) -> None:
        self._first = first
        self._rest = rest
        self._closing: asyncio.Task[None] | None = None

    async def chunks(self) -> AsyncIterator[bytes]:
        if self._first:
            yield self._first
        async for chunk in self._rest:
            yield chunk

    def release(self) -> None:
        self._close()

    def abort(self) -> None:
        self._close()

    def _close(self) -> None:
        # Closing the generator closes the provider connection (the client left, or the
        # stream ended); it must run even though the relay's own task is finishing.
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._rest.aclose())
