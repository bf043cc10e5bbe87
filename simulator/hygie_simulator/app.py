"""The simulated vLLM server as an ASGI application: routes, API-key check, error rendering."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from hygie_simulator.config import SimulatorConfig
from hygie_simulator.embeddings_api import embeddings
from hygie_simulator.errors import RouteNotFound, SimulatorError, validation_failure
from hygie_simulator.generation import Handler, chat_completions, completions
from hygie_simulator.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from hygie_simulator.payloads import model_list
from hygie_simulator.protocol import TokenizeRequest, decode_json_body, parse_body
from hygie_simulator.runtime import VLLM_VERSION, SimulatorRuntime
from hygie_simulator.streaming import TRANSPORT_SCOPE_KEY
from hygie_simulator.tokenizer import (
    chat_prompt_pieces,
    completion_prompt_pieces,
    embedding_input_pieces,
    text_pieces,
    token_id,
)

_VARY = {"vary": "Origin"}


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A compact JSON response with the headers vLLM's server sends."""
    return Response(
        orjson.dumps(payload),
        status_code=status,
        media_type="application/json",
        headers={**_VARY, **(headers or {})},
    )


class _Routes:
    """The endpoints, bound to one runtime."""

    def __init__(self, runtime: SimulatorRuntime) -> None:
        self.runtime = runtime

    async def health(self, request: Request) -> Response:
        return Response(status_code=200, headers=_VARY)

    async def version(self, request: Request) -> Response:
        return json_response({"version": VLLM_VERSION})

    async def models(self, request: Request) -> Response:
        return json_response(model_list(self.runtime.config.models, self.runtime.started))

    async def metrics(self, request: Request) -> Response:
        return Response(self.runtime.metrics_text(), media_type=METRICS_CONTENT_TYPE, headers=_VARY)

    async def tokenize(self, request: Request) -> Response:
        body = decode_json_body(await request.body())
        parsed = parse_body(TokenizeRequest, body)
        served = self.runtime.resolve(parsed.model, None)
        if parsed.messages is not None:
            pieces = chat_prompt_pieces(
                body["messages"], parsed.tools, parsed.add_generation_prompt
            )
        elif parsed.prompt is not None:
            special = parsed.add_special_tokens is not False
            if served.kind == "embedding":
                pieces = (
                    embedding_input_pieces(parsed.prompt) if special else text_pieces(parsed.prompt)
                )
            else:
                pieces = completion_prompt_pieces(parsed.prompt, special)
        else:
            raise validation_failure(
                [
                    {
                        "type": "missing",
                        "loc": ("body", "prompt"),
                        "msg": "Field required",
                        "input": body,
                    }
                ]
            )
        return json_response(
            {
                "count": len(pieces),
                "max_model_len": served.max_model_len,
                "tokens": [token_id(piece) for piece in pieces],
                "token_strs": pieces if parsed.return_token_strs else None,
            }
        )

    def _inference(self, handler: Handler) -> Any:
        async def endpoint(request: Request) -> Response:
            return await handler(self.runtime, await request.body())

        return endpoint

    async def get_config(self, request: Request) -> Response:
        return json_response(self.runtime.config.model_dump(mode="json"))

    async def patch_config(self, request: Request) -> Response:
        patch = decode_json_body(await request.body())
        if not isinstance(patch, dict):
            raise SimulatorError("the config patch must be a JSON object")
        try:
            config = self.runtime.update(patch)
        except ValidationError as exc:
            raise SimulatorError(f"invalid simulator config: {exc}") from None
        return json_response(config.model_dump(mode="json"))

    async def stats(self, request: Request) -> Response:
        return json_response(self.runtime.stats())

    def table(self) -> list[Route]:
        return [
            Route("/health", self.health, methods=["GET"]),
            Route("/ping", self.health, methods=["GET", "POST"]),
            Route("/version", self.version, methods=["GET"]),
            Route("/v1/models", self.models, methods=["GET"]),
            Route("/metrics", self.metrics, methods=["GET"]),
            Route("/tokenize", self.tokenize, methods=["POST"]),
            Route("/v1/chat/completions", self._inference(chat_completions), methods=["POST"]),
            Route("/v1/completions", self._inference(completions), methods=["POST"]),
            Route("/v1/embeddings", self._inference(embeddings), methods=["POST"]),
            Route("/sim/config", self.get_config, methods=["GET"]),
            Route("/sim/config", self.patch_config, methods=["POST"]),
            Route("/sim/stats", self.stats, methods=["GET"]),
        ]


class SimulatorApp:
    """The ASGI entry point: counts requests, applies the API key to /v1/*, and exposes the
    server's transport to the fault responses (uvicorn's `send` is a bound method of the
    request cycle, which holds it)."""

    def __init__(self, runtime: SimulatorRuntime, app: Starlette) -> None:
        self.runtime = runtime
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            self.runtime.requests_by_path[path] += 1
            transport = getattr(getattr(send, "__self__", None), "transport", None)
            if transport is not None and hasattr(transport, "close"):
                scope[TRANSPORT_SCOPE_KEY] = transport
            key = self.runtime.config.api_key
            if key is not None and path.startswith("/v1") and not _authorized(scope, key):
                self.runtime.errors_by_status[401] += 1
                await Response(
                    b'{"error":"Unauthorized"}', status_code=401, media_type="application/json"
                )(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _authorized(scope: Scope, key: str) -> bool:
    expected = f"Bearer {key}".encode()
    return any(name == b"authorization" and value == expected for name, value in scope["headers"])


def create_simulator_app(config: SimulatorConfig) -> SimulatorApp:
    """A fresh simulated vLLM server (its own state; `.runtime` gives tests access to it)."""
    runtime = SimulatorRuntime(config)

    async def on_simulator_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SimulatorError)
        runtime.errors_by_status[exc.status] += 1
        return json_response(exc.body(), exc.status)

    async def on_route_not_found(request: Request, exc: Exception) -> Response:
        runtime.errors_by_status[404] += 1
        return json_response({"detail": "Not Found"}, 404)

    async def on_http_exception(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        runtime.errors_by_status[exc.status_code] += 1
        return json_response({"detail": exc.detail}, exc.status_code, dict(exc.headers or {}))

    starlette = Starlette(
        routes=_Routes(runtime).table(),
        exception_handlers={
            SimulatorError: on_simulator_error,
            RouteNotFound: on_route_not_found,
            HTTPException: on_http_exception,
        },
    )
    return SimulatorApp(runtime, starlette)
