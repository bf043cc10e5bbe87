"""Pass-through client for OpenAI-compatible servers (vLLM), on one pooled aiohttp session.

The body is forwarded as bytes and the answer returned as bytes: the gateway parses only what it
needs (usage), so fields it does not know (vLLM extras, tools, logprobs) pass untouched.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass

import aiohttp

from gateway.catalog import Timeouts


class ReplicaUnreachable(Exception):
    """Nothing was received from the replica (refused, reset, timed out before the headers).

    Safe to retry on another replica: no byte reached the client.
    """

    def __init__(self, reason: str, *, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.timed_out = timed_out


@dataclass(frozen=True, slots=True)
class UpstreamReply:
    """A complete (non-streaming) answer."""

    status: int
    body: bytes
    content_type: str


def make_session() -> aiohttp.ClientSession:
    """The shared connection pool to every upstream (created once at start)."""
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, keepalive_timeout=30)
    return aiohttp.ClientSession(
        connector=connector,
        auto_decompress=False,
        skip_auto_headers=("User-Agent",),
        timeout=aiohttp.ClientTimeout(total=None),
    )


class OpenAICompatibleClient:
    """Sends requests to one kind of upstream: an OpenAI-compatible HTTP server."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def complete(
        self, url: str, body: bytes, headers: dict[str, str], timeouts: Timeouts
    ) -> UpstreamReply:
        """POST and read the whole answer; raises :class:`ReplicaUnreachable` when nothing came."""
        try:
            async with asyncio.timeout(timeouts.first_byte_s):
                async with self._session.post(
                    url, data=body, headers=headers, timeout=_timeout(timeouts, stream=False)
                ) as response:
                    payload = await response.read()
                    return UpstreamReply(
                        response.status, payload, response.content_type or "application/json"
                    )
        except TimeoutError:
            raise ReplicaUnreachable("no answer within first_byte_s", timed_out=True) from None
        except aiohttp.ClientError as exc:
            raise ReplicaUnreachable(f"{type(exc).__name__}: {exc}") from None

    async def open_stream(
        self, url: str, body: bytes, headers: dict[str, str], timeouts: Timeouts
    ) -> aiohttp.ClientResponse:
        """POST and return once the response headers arrived; the caller reads and releases it."""
        try:
            async with asyncio.timeout(timeouts.first_byte_s):
                return await self._session.post(
                    url, data=body, headers=headers, timeout=_timeout(timeouts, stream=True)
                )
        except TimeoutError:
            raise ReplicaUnreachable("no answer within first_byte_s", timed_out=True) from None
        except aiohttp.ClientError as exc:
            raise ReplicaUnreachable(f"{type(exc).__name__}: {exc}") from None


@functools.lru_cache(maxsize=256)
def _timeout(timeouts: Timeouts, *, stream: bool) -> aiohttp.ClientTimeout:
    # A stream may pause between chunks for at most idle_s (this includes the wait for the first
    # token once the server has answered with its headers); a plain answer arrives whole, so the
    # socket may stay silent until first_byte_s, which the outer asyncio.timeout enforces.
    return aiohttp.ClientTimeout(
        total=None,
        sock_connect=timeouts.connect_s,
        sock_read=timeouts.idle_s if stream else None,
    )
