"""Pass-through client for OpenAI-compatible servers (vLLM), on one pooled aiohttp session.

The body is forwarded as bytes and the answer returned as bytes: the gateway parses only what it
needs (usage), so fields it does not know (vLLM extras, tools, logprobs) pass untouched.

Pooled connections are closed after ``keepalive_s`` idle seconds, below the 5 s after which
vLLM's server (uvicorn) closes them: otherwise a request may be written on a connection the
server is closing at that moment ("Can not write request body", ServerDisconnectedError). If that
still happens, before any response byte, the request is sent once more on a fresh connection —
whatever the number of replicas, since the server never took the first one.

A complete answer is read up to ``max_answer_bytes``; a larger one raises
:class:`AnswerTooLarge` rather than filling the gateway's memory.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator

import aiohttp

from gateway.backends.forward import Forward
from gateway.backends.protocol import (
    AnswerTooLarge,
    ByteStream,
    ReplicaUnreachable,
    StreamBroken,
    UpstreamReply,
)
from gateway.catalog import Deployment, Timeouts

log = logging.getLogger("hygie.upstream")

DEFAULT_KEEPALIVE_S = 4.0
DEFAULT_MAX_ANSWER_BYTES = 64 * 1024 * 1024
_READ_CHUNK = 64 * 1024
# An error answer to a stream request is read this far, no further (its message is all the
# client is told).
_ERROR_BODY_BYTES = 64 * 1024
_JSON_HEADERS = {"Content-Type": "application/json"}

ENDPOINT_PATHS = {
    "chat": "/chat/completions",
    "completions": "/completions",
    "embeddings": "/embeddings",
}

__all__ = [
    "AnswerTooLarge",
    "OpenAICompatibleClient",
    "ReplicaUnreachable",
    "UpstreamReply",
    "VllmBackend",
    "make_session",
]


def make_session(keepalive_s: float = DEFAULT_KEEPALIVE_S) -> aiohttp.ClientSession:
    """The shared connection pool to every upstream (created once at start)."""
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, keepalive_timeout=keepalive_s)
    return _session(connector)


def _session(connector: aiohttp.TCPConnector) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=connector,
        auto_decompress=False,
        skip_auto_headers=("User-Agent",),
        timeout=aiohttp.ClientTimeout(total=None),
    )


def stale_connection(exc: aiohttp.ClientError) -> bool:
    """True when ``exc`` says a pooled connection was closed under the request as it was
    written (not a refused connection, not a timeout)."""
    stale = (
        aiohttp.ServerDisconnectedError,
        aiohttp.ClientOSError,
        aiohttp.ClientConnectionResetError,
    )
    return isinstance(exc, stale) and not isinstance(exc, aiohttp.ClientConnectorError)


class OpenAICompatibleClient:
    """Sends requests to one kind of upstream: an OpenAI-compatible HTTP server."""

    def __init__(
        self, session: aiohttp.ClientSession, *, max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES
    ) -> None:
        self._session = session
        self._max_answer_bytes = max_answer_bytes
        self._fresh: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        """Close the connections opened for retries (the shared session is the caller's)."""
        if self._fresh is not None:
            await self._fresh.close()

    async def complete(
        self, url: str, body: bytes, headers: dict[str, str], timeouts: Timeouts
    ) -> UpstreamReply:
        """POST and read the whole answer; raises :class:`ReplicaUnreachable` when nothing came
        and :class:`AnswerTooLarge` past ``max_answer_bytes``."""
        try:
            async with asyncio.timeout(timeouts.first_byte_s):
                response = await self._post(url, body, headers, _timeout(timeouts, stream=False))
                async with response:
                    try:
                        payload = await self._read(response)
                    except AnswerTooLarge:
                        response.close()  # the rest is never read: the connection is dropped
                        raise
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
                return await self._post(url, body, headers, _timeout(timeouts, stream=True))
        except TimeoutError:
            raise ReplicaUnreachable("no answer within first_byte_s", timed_out=True) from None
        except aiohttp.ClientError as exc:
            raise ReplicaUnreachable(f"{type(exc).__name__}: {exc}") from None

    async def _post(
        self, url: str, body: bytes, headers: dict[str, str], limits: aiohttp.ClientTimeout
    ) -> aiohttp.ClientResponse:
        """The response's headers; one more try on a fresh connection if a pooled one was stale."""
        try:
            return await self._session.post(url, data=body, headers=headers, timeout=limits)
        except aiohttp.ClientError as exc:
            if not stale_connection(exc):
                raise
            log.info("connection to %s closed under the request (%s); sent again", url, exc)
        return await self._fresh_session().post(url, data=body, headers=headers, timeout=limits)

    def _fresh_session(self) -> aiohttp.ClientSession:
        # Created on first need: a retry is rare, and most clients never make one.
        if self._fresh is None:
            self._fresh = _session(aiohttp.TCPConnector(limit=0, force_close=True))
        return self._fresh

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        limit = self._max_answer_bytes
        if response.content_length is not None and response.content_length > limit:
            raise AnswerTooLarge(limit)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(_READ_CHUNK):
            size += len(chunk)
            if size > limit:
                raise AnswerTooLarge(limit)
            chunks.append(chunk)
        return b"".join(chunks)


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


class VllmBackend:
    """A vLLM deployment (any OpenAI-compatible server): bytes in, bytes out, one URL per
    replica. ``headers`` carry the deployment's credential when it has one."""

    polled = True
    provider = "vllm"

    def __init__(
        self,
        deployment: Deployment,
        client: OpenAICompatibleClient,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._deployment = deployment
        self._client = client
        self._headers = headers or _JSON_HEADERS
        self._timeouts = deployment.timeouts

    def targets(self) -> list[str]:
        return self._deployment.replica_urls()

    async def complete(self, target: str, model: str | None, forward: Forward) -> UpstreamReply:
        return await self._client.complete(
            target + ENDPOINT_PATHS[forward.endpoint],
            forward.body_for(self._deployment, model),
            self._headers,
            self._timeouts,
        )

    async def open_stream(
        self, target: str, model: str | None, forward: Forward
    ) -> ByteStream | UpstreamReply:
        response = await self._client.open_stream(
            target + ENDPOINT_PATHS[forward.endpoint],
            forward.body_for(self._deployment, model),
            self._headers,
            self._timeouts,
        )
        if response.status == 200:
            return ResponseStream(response)
        try:
            payload = await response.content.read(_ERROR_BODY_BYTES)
        except aiohttp.ClientError:
            payload = b""
        finally:
            response.release()  # closes the connection when the body was not read whole
        return UpstreamReply(response.status, payload, response.content_type or "application/json")

    async def close(self) -> None:
        await self._client.close()


class ResponseStream:
    """An aiohttp response relayed as it arrives (see :class:`ByteStream`)."""

    __slots__ = ("_response",)

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for data in self._response.content.iter_any():
                yield data
        except TimeoutError:
            raise  # the socket stayed silent past idle_s
        except aiohttp.ClientError as exc:
            raise StreamBroken(type(exc).__name__) from None

    def release(self) -> None:
        self._response.release()

    def abort(self) -> None:
        # Closing (not releasing) drops the connection, which makes vLLM abort the request.
        self._response.close()
