"""Errors as types, and the one place that renders them as OpenAI-style error JSON.

Every error a client can see is a :class:`GatewayError` subclass that carries its HTTP status and
its OpenAI ``type``/``code``. :func:`error_body` and :func:`sse_error_event` are the only
functions that turn an error into bytes, for plain responses and for streams that already started.
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson
from starlette.responses import Response


class GatewayError(Exception):
    """Base class: an error the client is told about, with an OpenAI-compatible shape."""

    status: ClassVar[int] = 500
    type: ClassVar[str] = "api_error"
    code: ClassVar[str | None] = "internal_error"
    error_class: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param

    def headers(self) -> dict[str, str]:
        """Extra response headers this error needs (``Retry-After``, ...)."""
        return {}

    def payload(self) -> dict[str, Any]:
        """The ``{"error": {...}}`` object sent to the client."""
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


class InvalidApiKey(GatewayError):
    status = 401
    type = "invalid_request_error"
    code = "invalid_api_key"
    error_class = "invalid_api_key"

    def headers(self) -> dict[str, str]:
        # As HTTP asks of a 401; it also tells the failed-authentication throttle that this 401
        # is the gateway's own, not a model server's passed through.
        return {"www-authenticate": "Bearer"}


class AdminAuthRequired(GatewayError):
    status = 401
    type = "invalid_request_error"
    code = "invalid_admin_credential"
    error_class = "invalid_admin_credential"

    def headers(self) -> dict[str, str]:
        return {"www-authenticate": "Bearer"}


class Forbidden(GatewayError):
    status = 403
    type = "permission_error"
    code = "forbidden"
    error_class = "forbidden"


class ModelNotFound(GatewayError):
    status = 404
    type = "invalid_request_error"
    code = "model_not_found"
    error_class = "model_not_found"

    def __init__(self, model: str) -> None:
        super().__init__(
            f"The model `{model}` does not exist or you do not have access to it.", param="model"
        )


class NotFound(GatewayError):
    status = 404
    type = "invalid_request_error"
    code = "not_found"
    error_class = "not_found"


class InvalidRequest(GatewayError):
    status = 400
    type = "invalid_request_error"
    code = "invalid_request"
    error_class = "invalid_request"


class BodyTooLarge(GatewayError):
    status = 413
    type = "invalid_request_error"
    code = "request_too_large"
    error_class = "request_too_large"


class UpstreamError(GatewayError):
    """The model server failed or could not be reached (after retries)."""

    status = 502
    type = "api_error"
    code = "upstream_error"
    error_class = "upstream_error"


class UpstreamTimeout(GatewayError):
    status = 504
    type = "api_error"
    code = "upstream_timeout"
    error_class = "upstream_timeout"


class NoDeploymentAvailable(GatewayError):
    status = 503
    type = "api_error"
    code = "no_deployment_available"
    error_class = "no_deployment_available"

    def __init__(self, message: str, *, retry_after_s: int = 5) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        return {"retry-after": str(self.retry_after_s)}


class UpstreamRejected(GatewayError):
    """The model server refused the request (4xx); its status and message reach the client."""

    error_class = "upstream_rejected"

    def __init__(self, status: int, message: str, *, param: str | None, code: str | None) -> None:
        super().__init__(message, param=param)
        self._status = status
        self._code = code

    def payload(self) -> dict[str, Any]:
        kind = "invalid_request_error" if self._status < 500 else "api_error"
        return {
            "error": {
                "message": self.message,
                "type": kind,
                "param": self.param,
                "code": self._code,
            }
        }

    @property
    def http_status(self) -> int:
        return self._status


def status_of(error: GatewayError) -> int:
    """The HTTP status to answer with for ``error``."""
    if isinstance(error, UpstreamRejected):
        return error.http_status
    return error.status


def error_body(error: GatewayError) -> bytes:
    """The JSON body of a plain error response."""
    return orjson.dumps(error.payload())


def sse_error_event(error: GatewayError) -> bytes:
    """The SSE event that ends a stream that failed after its first byte was sent."""
    return b"data: " + orjson.dumps(error.payload()) + b"\n\n"


def error_response(error: GatewayError) -> Response:
    """The plain HTTP response for ``error``: JSON body, status and extra headers."""
    return Response(error_body(error), status_of(error), error.headers(), "application/json")


class QuotaExceeded(GatewayError):
    """A budget is exhausted: retrying will not help until the period ends or it is raised."""

    status = 429
    type = "insufficient_quota"
    code = "insufficient_quota"
    error_class = "insufficient_quota"

    def headers(self) -> dict[str, str]:
        # The openai SDK retries 429s twice unless told not to.
        return {"x-should-retry": "false"}


class RateLimited(GatewayError):
    """A rate or concurrency limit refused the request; it may be retried after a delay."""

    status = 429
    type = "requests"
    code = "rate_limit_exceeded"
    error_class = "rate_limit_exceeded"

    def __init__(self, message: str, *, retry_after_s: int, headers: dict[str, str]) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, min(60, retry_after_s))
        self._headers = headers

    def headers(self) -> dict[str, str]:
        return {**self._headers, "retry-after": str(self.retry_after_s)}


class QuotaUnavailable(GatewayError):
    """The shared quota counters are unreachable and a hard limit is configured to fail closed."""

    status = 503
    type = "api_error"
    code = "quota_service_unavailable"
    error_class = "quota_service_unavailable"

    def headers(self) -> dict[str, str]:
        return {"retry-after": "5"}


class UseCaseRefused(GatewayError):
    """The request's use of AI is not registered, not live, or may not use this model; ``code``
    says which (``use_case_retired``, ``model_not_allowed_for_use_case``, ...)."""

    status = 403
    type = "permission_error"
    error_class = "use_case_refused"

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.refusal_code = code

    def headers(self) -> dict[str, str]:
        return {"x-should-retry": "false"}

    def payload(self) -> dict[str, Any]:
        body = super().payload()
        body["error"]["code"] = self.refusal_code
        return body
