"""Every response carries ``x-request-id``; the same id keys the request's ledger record.

A pure ASGI middleware (no per-request Request objects) so it costs next to nothing. The id is
always generated here: a client-supplied id is never trusted as a ledger key.
"""

from __future__ import annotations

import itertools
import secrets

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.observability.logs import reset_request_id, set_request_id

_HEADER = b"x-request-id"


class RequestIds:
    """Unique request ids: a random per-process prefix (64 bits) and a counter.

    Cheaper than drawing random bytes for every request, and unique across gateway replicas
    because each process draws its own prefix.
    """

    def __init__(self) -> None:
        self._prefix = "req_" + secrets.token_hex(8)
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter):08x}"


def new_request_id() -> str:
    """A one-off id, for requests that did not pass through the middleware."""
    return "req_" + secrets.token_hex(12)


def request_id_of(request: Request) -> str:
    """The id the middleware gave this request."""
    state = request.scope.get("state") or {}
    request_id = state.get("request_id")
    return request_id if isinstance(request_id, str) else new_request_id()


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._ids = RequestIds()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self._ids.next()
        scope.setdefault("state", {})["request_id"] = request_id
        header = (_HEADER, request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        token = set_request_id(request_id)  # not a @contextmanager: it showed in profiles
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            reset_request_id(token)
