"""Pooled connections to a model server: closed before the server closes them, and a request
written on one the server was closing is sent again on a fresh connection."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import orjson
import pytest

from gateway.backends.vllm import (
    AnswerTooLarge,
    OpenAICompatibleClient,
    ReplicaUnreachable,
    make_session,
)
from gateway.catalog import Timeouts
from gateway.errors import UpstreamError
from gateway.routing.router import Attempts
from tests.routing.factories import catalog_of, chat, make_router

pytestmark = pytest.mark.anyio

ANSWER = orjson.dumps(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Oui"}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }
)


@dataclass
class KeepAliveServer:
    """A tiny HTTP/1.1 server with a short keep-alive that closes an idle connection just as a
    request arrives on it (the race uvicorn's 5 s keep-alive loses against a 30 s pool), and
    answers ``padding`` extra bytes when asked."""

    url: str = ""
    connections: int = 0
    answered: int = 0
    dropped: int = 0
    keepalive_s: float = 0.5
    padding: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        last = time.monotonic()
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                if time.monotonic() - last > self.keepalive_s:
                    self.dropped += 1  # the server's keep-alive fired: the request is lost
                    return
                length = next(
                    int(line.split(b":")[1])
                    for line in head.lower().split(b"\r\n")
                    if line.startswith(b"content-length:")
                )
                await reader.readexactly(length)
                body = ANSWER + b" " * self.padding
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                await writer.drain()
                self.answered += 1
                last = time.monotonic()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()


@pytest.fixture
async def upstream() -> AsyncIterator[KeepAliveServer]:
    state = KeepAliveServer()
    server = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    async with server:
        yield state
        server.close()


async def test_a_request_on_a_connection_the_server_closed_is_sent_again(
    upstream: KeepAliveServer,
) -> None:
    async with make_session(keepalive_s=30) as session:  # the old pool: outlives the server's
        router = make_router(catalog_of({"llama-3-8b": {"d": [upstream.url]}}), session)
        try:
            for _ in range(2):
                attempts = Attempts()
                reply, _ = await router.complete(chat(), router.all_replicas(), attempts)
                assert reply.status == 200 and attempts.count == 1  # one replica, no failover
                await asyncio.sleep(0.7)
        finally:
            await router.close()
    assert upstream.dropped == 1 and upstream.answered == 2


async def test_idle_connections_are_closed_before_the_servers_keepalive(
    upstream: KeepAliveServer,
) -> None:
    client_pool = make_session(keepalive_s=0.25)
    async with client_pool as session:
        client = OpenAICompatibleClient(session)
        for _ in range(2):
            reply = await client.complete(
                f"{upstream.url}/v1/chat/completions", b"{}", {}, Timeouts()
            )
            assert reply.status == 200
            await asyncio.sleep(0.7)
        await client.close()
    assert upstream.dropped == 0 and upstream.connections == 2


async def test_an_answer_over_the_limit_is_refused(upstream: KeepAliveServer) -> None:
    upstream.padding = 10_000
    async with make_session() as session:
        client = OpenAICompatibleClient(session, max_answer_bytes=4096)
        with pytest.raises(AnswerTooLarge):
            await client.complete(f"{upstream.url}/v1/chat/completions", b"{}", {}, Timeouts())
        catalog = catalog_of({"llama-3-8b": {"d": [upstream.url]}})
        router = make_router(catalog, session, max_answer_bytes=4096)
        replica = router.all_replicas()[0]
        with pytest.raises(UpstreamError, match="larger than the gateway accepts"):
            await router.complete(chat(), [replica], Attempts())
        assert replica.health.consecutive_failures == 0  # not the replica's fault
        assert replica.in_flight == 0


async def test_a_refused_connection_is_not_retried_on_the_same_replica() -> None:
    async with make_session() as session:
        client = OpenAICompatibleClient(session)
        with pytest.raises(ReplicaUnreachable, match="ClientConnectorError"):
            await client.complete("http://127.0.0.1:9/v1/chat/completions", b"{}", {}, Timeouts())
