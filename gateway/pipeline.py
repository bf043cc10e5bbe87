"""The request path of the OpenAI-compatible endpoints, readable in one function.

:meth:`Pipeline.handle` is the whole story of a request: authenticate, read the call, find the
model and the replicas it may use, forward (with retries inside the router), answer, and record
exactly once in the ledger.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import orjson
from starlette.requests import Request
from starlette.responses import Response

from billing.ledger_writer import LedgerWriter
from billing.usage import Usage
from gateway.auth import Authenticator
from gateway.catalog import Catalog
from gateway.disconnect import DisconnectWatch
from gateway.errors import BodyTooLarge, GatewayError, ModelNotFound, error_response
from gateway.exchange import Exchange
from gateway.openai_request import OpenAICall, check_declared_length, parse_call
from gateway.request_id import request_id_of
from gateway.router import Forward, Router, model_for
from gateway.sse import StreamMeter
from gateway.stream_response import UpstreamStreamResponse
from gateway.upstream.replicas import Replica
from gateway.upstream.vllm import UpstreamReply


@dataclass(frozen=True, slots=True)
class PipelineLimits:
    max_body_bytes: int


class Pipeline:
    """Serves ``/v1/chat/completions``, ``/v1/completions`` and ``/v1/embeddings``."""

    def __init__(
        self,
        *,
        authenticator: Authenticator,
        catalog: Catalog,
        router: Router,
        ledger: LedgerWriter,
        limits: PipelineLimits,
    ) -> None:
        self._auth = authenticator
        self._catalog = catalog
        self._router = router
        self._ledger = ledger
        self._limits = limits

    async def handle(self, endpoint: str, request: Request) -> Response:
        """Answer one request; whatever happens, it is recorded in the ledger exactly once."""
        exchange = Exchange(request_id_of(request), endpoint)
        watch: DisconnectWatch | None = None
        handed_off = False
        try:
            exchange.owner = await self._auth.authenticate(request.headers.get("authorization"))
            call = parse_call(endpoint, await self._read_body(request))
            exchange.model, exchange.body, exchange.streamed = call.model, call.body, call.stream
            model = model_for(self._catalog, call.model, exchange.owner.department)
            if model is None or endpoint not in model.endpoints:
                raise ModelNotFound(call.model)
            replicas = self._router.replicas_of(model.deployments)
            forward = Forward(call)
            watch = DisconnectWatch(request.receive)
            if call.stream:
                response = await self._open_stream(call, forward, replicas, exchange)
                handed_off = True  # the stream response records the request when it ends
                return response
            reply, replica = await self._router.complete(forward, replicas, exchange.attempts)
            watch.stop()
            return self._answer(reply, replica, exchange)
        except GatewayError as error:
            exchange.fail(error)
            return error_response(error)
        except asyncio.CancelledError:
            if watch is None or not watch.absorb_cancellation():
                exchange.error_class = "gateway_shutdown"
                raise
            exchange.client_disconnected, exchange.status_code = True, 499
            return Response(status_code=499)  # nobody is listening any more
        finally:
            if watch is not None:
                watch.stop()
            if not handed_off:
                self._record(exchange)

    async def _read_body(self, request: Request) -> bytes:
        limit = self._limits.max_body_bytes
        check_declared_length(request.headers.get("content-length"), limit)
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(f"Request body is larger than the limit of {limit} bytes.")
            chunks.append(chunk)
        return b"".join(chunks)

    def _answer(self, reply: UpstreamReply, replica: Replica, exchange: Exchange) -> Response:
        exchange.deployment, exchange.replica = replica.deployment.name, replica.base_url
        exchange.status_code = reply.status
        exchange.mark_first_byte()
        usage = None
        if reply.status == 200:
            usage = Usage.from_openai(_usage_field(reply.body))
        else:
            exchange.error_class = "upstream_rejected"
        exchange.settle_usage(usage)
        return Response(reply.body, reply.status, _model_headers(replica), reply.content_type)

    async def _open_stream(
        self, call: OpenAICall, forward: Forward, replicas: list[Replica], exchange: Exchange
    ) -> Response:
        upstream, replica = await self._router.open_stream(forward, replicas, exchange.attempts)
        exchange.deployment, exchange.replica = replica.deployment.name, replica.base_url

        def finish(done: Exchange) -> None:
            self._router.stream_finished(replica)
            self._record(done)

        return UpstreamStreamResponse(
            upstream,
            exchange,
            StreamMeter(keep_usage_chunk=call.client_wants_usage),
            extra_headers=[(k.encode(), v.encode()) for k, v in _model_headers(replica).items()],
            on_finish=finish,
        )

    def _record(self, exchange: Exchange) -> None:
        if exchange.recorded:
            return
        exchange.recorded = True
        self._ledger.submit(exchange.record())


def _usage_field(body: bytes) -> object:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return parsed.get("usage") if isinstance(parsed, dict) else None


def _model_headers(replica: Replica) -> dict[str, str]:
    deployment = replica.deployment
    return {
        "x-hygie-deployment": deployment.name,
        "x-hygie-hosting-class": deployment.hosting.hosting_class.value,
    }
