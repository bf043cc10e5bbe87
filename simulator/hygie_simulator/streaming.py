"""ASGI responses that outlive the handler: server-sent events, answers computed while the client
may leave, and connections cut on purpose.

Client disconnects are watched on `receive()` (as vLLM does): when the client leaves, the work is
cancelled, so the engine releases the slot at once and counts only what was produced.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from hygie_simulator.config import FaultName
from hygie_simulator.errors import SimulatorError

TRANSPORT_SCOPE_KEY = "hygie.simulator.transport"
"""Scope key under which `SimulatorApp` leaves the server's transport, when it can find it."""

SSE_CONTENT_TYPE = b"text/event-stream; charset=utf-8"
_MALFORMED_EVENT = b"data: {not json\n\n"
_MALFORMED_BODY = b"{not json"

T = TypeVar("T")


class ConnectionCut(Exception):
    """Raised to end a response with an abrupt close; when the server's transport is not
    reachable it propagates, and the server aborts the connection itself."""


class Emit(Protocol):
    """Sends one event; `final` marks the usage chunk and `[DONE]`."""

    def __call__(self, payload: bytes, final: bool = False) -> Awaitable[None]: ...


async def _wait_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def cut_connection(scope: Scope, receive: Receive) -> None:
    """Close the client's TCP connection now (buffered bytes are flushed first)."""
    transport = scope.get(TRANSPORT_SCOPE_KEY)
    if transport is None:
        raise ConnectionCut()
    transport.close()
    # Returning only once the server has seen the close keeps it from logging an error.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(_wait_disconnect(receive), 2.0)


async def race_disconnect(work: Awaitable[T], receive: Receive) -> tuple[bool, T | None]:
    """Run `work` unless the client disconnects first: (True, result) or (False, None), in
    which case `work` was cancelled and has finished unwinding."""
    work_task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_wait_disconnect(receive))
    try:
        await asyncio.wait({work_task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        if not work_task.done():
            work_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await work_task
    if work_task.cancelled():
        return False, None
    return True, work_task.result()


def _error_body(exc: SimulatorError) -> tuple[int, bytes]:
    return exc.status, orjson.dumps(exc.body())


class EventStreamResponse(Response):
    """A `text/event-stream` response fed by `run(emit)`, with the stream faults applied.

    `cut_after`: close the connection instead of sending the event after that many (and never
    send the final ones). `malformed_after`: insert a non-JSON event after that many events.
    """

    def __init__(
        self,
        run: Callable[[Emit], Awaitable[None]],
        *,
        cut_after: int | None = None,
        malformed_after: int | None = None,
    ) -> None:
        self.status_code = 200
        self.background = None
        self.raw_headers = [(b"content-type", SSE_CONTENT_TYPE), (b"vary", b"Origin")]
        self._run = run
        self._cut_after = cut_after
        self._malformed_after = malformed_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        sent = 0

        async def emit(payload: bytes, final: bool = False) -> None:
            nonlocal sent
            if self._cut_after is not None and (final or sent >= self._cut_after):
                raise ConnectionCut()
            await send({"type": "http.response.body", "body": payload, "more_body": True})
            sent += 1
            if sent == self._malformed_after:
                await send(
                    {"type": "http.response.body", "body": _MALFORMED_EVENT, "more_body": True}
                )

        async def produce() -> None:
            await self._run(emit)
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        try:
            await race_disconnect(produce(), receive)
        except ConnectionCut:
            await cut_connection(scope, receive)


class DeferredJSONResponse(Response):
    """A JSON answer computed by `work()` while watching for the client leaving; non-stream
    faults: `disconnect_mid_stream` sends half the body then cuts, `malformed_chunk` sends a
    body that is not JSON."""

    def __init__(
        self, work: Callable[[], Awaitable[dict[str, Any]]], fault: FaultName | None = None
    ) -> None:
        self.status_code = 200
        self.background = None
        self.raw_headers = []
        self._work = work
        self._fault = fault

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            finished, result = await race_disconnect(self._work(), receive)
        except SimulatorError as exc:
            status, body = _error_body(exc)
        else:
            if not finished:
                return
            status, body = 200, orjson.dumps(result)
        if self._fault == "malformed_chunk" and status == 200:
            body = _MALFORMED_BODY
        headers = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
            (b"vary", b"Origin"),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if self._fault == "disconnect_mid_stream" and status == 200:
            half = body[: len(body) // 2]
            await send({"type": "http.response.body", "body": half, "more_body": True})
            await cut_connection(scope, receive)
            return
        await send({"type": "http.response.body", "body": body, "more_body": False})


class DroppedConnection(Response):
    """Closes the connection without answering (the `drop_connection` fault)."""

    def __init__(self) -> None:
        self.status_code = 0
        self.background = None
        self.raw_headers = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await cut_connection(scope, receive)
