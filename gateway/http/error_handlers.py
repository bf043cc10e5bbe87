"""Hooks the framework's own errors (unknown route, validation) into the one error format."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from gateway.errors import (
    GatewayError,
    InvalidRequest,
    NotFound,
    error_body,
    error_response,
)
from gateway.http.hot_path import InternalError


def install_error_handlers(app: FastAPI) -> None:
    """Make every error the app can raise answer in OpenAI's ``{"error": {...}}`` shape."""

    async def on_gateway_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, GatewayError)
        return error_response(exc)

    async def on_validation_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        location = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        message = f"{location}: {first.get('msg', 'invalid value')}" if location else "Invalid body"
        return error_response(InvalidRequest(message, param=location or None))

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return error_response(NotFound(f"Unknown endpoint {request.url.path}."))
        if exc.status_code == 405:
            error = InvalidRequest(f"Method {request.method} is not allowed on {request.url.path}.")
            return Response(error_body(error), 405, None, "application/json")
        error = InvalidRequest(str(exc.detail))
        return Response(error_body(error), exc.status_code, None, "application/json")

    async def on_unexpected_error(_: Request, exc: Exception) -> Response:
        # A bug. Starlette raises it again once this answer is sent, so the server logs it with
        # its traceback; the client gets the same error shape as for every other error.
        return error_response(InternalError("Internal error."))

    app.add_exception_handler(GatewayError, on_gateway_error)
    app.add_exception_handler(Exception, on_unexpected_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
