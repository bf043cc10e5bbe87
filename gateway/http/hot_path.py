"""The inference endpoints, dispatched straight to the pipeline in front of FastAPI.

These three routes carry nearly all the traffic. Profiling showed FastAPI's per-request routing,
middleware and exception layers costing a sizeable share of the gateway's CPU on them, so they
are served by this small ASGI layer; everything else (models, admin, health) stays on FastAPI.
"""

from __future__ import annotations

import logging

from starlette.datastructures import State
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.errors import GatewayError, error_response

log = logging.getLogger("hygie.http")

INFERENCE_ENDPOINTS = {
    "/v1/chat/completions": "chat",
    "/v1/completions": "completions",
    "/v1/embeddings": "embeddings",
}


class InternalError(GatewayError):
    """A bug: the request is recorded and the client gets a clean 500."""


class InferenceFastPath:
    """Serves ``POST /v1/{chat/completions,completions,embeddings}`` with the pipeline."""

    def __init__(self, app: ASGIApp, state: State) -> None:
        self.app = app
        self._state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = INFERENCE_ENDPOINTS.get(scope["path"]) if scope["type"] == "http" else None
        if endpoint is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        pipeline = self._state.services.pipeline
        try:
            response = await pipeline.handle(endpoint, Request(scope, receive))
        except Exception:
            log.exception("unexpected error on %s", scope["path"])
            response = error_response(InternalError("Internal error; the request was recorded."))
        await response(scope, receive, send)
