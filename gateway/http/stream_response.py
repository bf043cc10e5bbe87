"""Forwarding an upstream SSE stream to the client chunk by chunk, and recording it once.

Whatever ends the stream — the upstream finishing, failing or stalling, a malformed event, the
client leaving, or the gateway shutting down — the upstream connection is closed or released,
the replica's in-flight count is restored and exactly one ledger record is submitted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gateway.backends.protocol import ByteStream, StreamBroken
from gateway.errors import GatewayError, UpstreamError, UpstreamTimeout, sse_error_event
from gateway.exchange import Exchange
from gateway.http.disconnect import DisconnectWatch
from gateway.http.sse import EventTooLong, MalformedEvent, StreamMeter
from gateway.observability.logs import redact

log = logging.getLogger("hygie.stream")

_SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


@dataclass(frozen=True, slots=True)
class StreamBudget:
    """More budget for a stream that reached its hold: ``top_up()`` grants ``step`` more chunks
    (None) or refuses (the error to end the stream with)."""

    step: int
    top_up: Callable[[], Awaitable[GatewayError | None]]


class UpstreamStreamResponse(Response):
    """An ASGI response that relays one upstream stream; built by the pipeline."""

    def __init__(
        self,
        upstream: ByteStream,
        exchange: Exchange,
        meter: StreamMeter,
        *,
        extra_headers: list[tuple[bytes, bytes]],
        on_finish: Callable[[Exchange], None],
        budget: StreamBudget | None = None,
    ) -> None:
        # Response.__init__ is not called: this class writes its own messages in __call__.
        self.status_code = 200
        self.background = None
        self._upstream = upstream
        self._exchange = exchange
        self._meter = meter
        self._sse_headers = _SSE_HEADERS + extra_headers
        self._on_finish = on_finish
        self._budget = budget
        self._finished = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = self._exchange
        watch = DisconnectWatch(receive)
        finished_cleanly = False
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self._sse_headers})
            error = await self._relay(send)
            if error is not None:
                exchange.error_class = error.error_class
                await send(
                    {
                        "type": "http.response.body",
                        "body": sse_error_event(error),
                        "more_body": True,
                    }
                )
            finished_cleanly = error is None
            watch.stop()
            self._finish(finished_cleanly)  # recorded before the client sees the end
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            if not watch.absorb_cancellation():
                exchange.error_class = exchange.error_class or "gateway_shutdown"
                raise
            exchange.client_disconnected = True
            exchange.status_code = 499
        finally:
            watch.stop()
            self._finish(finished_cleanly)

    def _finish(self, finished_cleanly: bool) -> None:
        """Close the upstream and record the request; runs once, whatever ended the stream."""
        if self._finished:
            return
        self._finished = True
        self._close_upstream(finished_cleanly)
        self._exchange.settle_usage(
            self._meter.usage, chunks_with_choices=self._meter.content_chunks
        )
        self._on_finish(self._exchange)

    async def _relay(self, send: Send) -> GatewayError | None:
        """Copy events until the upstream ends; return the error to report in-stream, if any."""
        meter, budget = self._meter, self._budget
        try:
            async for data in self._upstream.chunks():
                out = meter.feed(data)
                if out:
                    self._exchange.mark_first_byte()
                    await send({"type": "http.response.body", "body": out, "more_body": True})
                while budget is not None and meter.holding:
                    refusal = await budget.top_up()
                    if refusal is not None:
                        return refusal  # the held chunks are never sent: no overshoot
                    out = meter.release(budget.step)
                    if out:
                        await send({"type": "http.response.body", "body": out, "more_body": True})
        except EventTooLong as exc:
            log.warning("upstream sent an over-long event: %s", exc)
            return UpstreamError("The model server sent an event over the size limit; stopped.")
        except MalformedEvent as exc:
            log.warning("upstream sent a malformed event: %s", exc)
            return UpstreamError("The model server sent a malformed event; the stream was stopped.")
        except TimeoutError:
            return UpstreamTimeout("The model server stopped sending tokens (idle timeout).")
        except StreamBroken as exc:
            log.warning("upstream stream broke: %s", redact(str(exc)))
            if exc.timed_out:
                return UpstreamTimeout("The model provider stopped sending tokens (idle timeout).")
            return UpstreamError("The connection to the model server broke during the stream.")
        if not meter.saw_done:
            return UpstreamError("The model server ended the stream before it was complete.")
        return None

    def _close_upstream(self, finished_cleanly: bool) -> None:
        if finished_cleanly:
            self._upstream.release()
        else:
            self._upstream.abort()  # the upstream stops generating
