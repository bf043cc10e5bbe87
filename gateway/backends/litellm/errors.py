"""How a failed external provider call is classified: the client's fault, or this target's.

The mapping (``status`` is the provider's HTTP status as litellm reports it):

===========================  ==================================================================
provider answer              outcome
===========================  ==================================================================
400, 409, 413, 422, other    :class:`ProviderRejected` — the request itself is refused; the
4xx not listed below         client sees the status and the provider's message. Not retried.
401, 402, 403, 404           :class:`DeploymentMisconfigured` — the provider refused *the
                             gateway's* credential, account or configured model; telling the
                             client "401" would blame its Hygie key. Retryable elsewhere.
429                          :class:`ProviderRateLimited` — retryable elsewhere.
408, timeout                 :class:`ReplicaUnreachable` with ``timed_out=True``.
5xx, connection refused or   :class:`ReplicaUnreachable` — retryable elsewhere.
reset, unreadable answer
===========================  ==================================================================

The retryable classes derive from :class:`ReplicaUnreachable`, so the router's existing failover
handles them unchanged. After a stream has sent bytes, any failure is a
:class:`ProviderStreamBroken` instead: nothing may be retried then.

This module reads exceptions by their attributes (``status_code``, ``message``, ``response``,
``litellm_response_headers``) so it never imports litellm.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import orjson

from gateway.backends.protocol import ReplicaUnreachable, StreamBroken

_MISCONFIGURED = frozenset({401, 402, 403, 404})
_MESSAGE_LIMIT = 1000
# litellm prefixes messages with its class names: "litellm.BadRequestError: AnthropicException - "
_LITELLM_PREFIX = re.compile(
    r"^(?:litellm\.\w+:\s*)?(?:\w+Error:\s*)?(?:\w+Exception\s*(?:\w+)?\s*-\s*)?"
)
# Some streaming errors carry the provider's body as a Python bytes literal: b'{"type": ...}'.
_BYTES_LITERAL = re.compile(r"b(['\"])\{.*\}\1", re.DOTALL)


class ProviderRejected(Exception):
    """The provider refused the request itself (a 4xx the client can act on).

    ``body`` is an OpenAI-style ``{"error": {...}}`` JSON document carrying the provider's message.
    ``stream`` raises it before the first byte; ``complete`` returns it as an ``UpstreamReply``.
    """

    def __init__(self, status: int, body: bytes, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.body = body
        self.message = message


class DeploymentMisconfigured(ReplicaUnreachable):
    """The provider refused the gateway's credential, account or configured model (401-404)."""

    def __init__(self, reason: str, *, status: int) -> None:
        super().__init__(reason)
        self.status = status


class ProviderRateLimited(ReplicaUnreachable):
    """The provider answered 429; ``retry_after_s`` is its hint when it gave one."""

    def __init__(self, reason: str, *, retry_after_s: float | None) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


class ProviderStreamBroken(StreamBroken):
    """A stream failed after bytes were sent: the client must be told in-stream; no retry."""


def classify_provider_error(error: BaseException) -> ProviderRejected | ReplicaUnreachable:
    """The outcome of a provider call that raised ``error`` (see the module's table)."""
    status = getattr(error, "status_code", None)
    if not isinstance(status, int):
        status = 500
    message = provider_message(error)
    if status == 408:
        return ReplicaUnreachable(f"provider timed out: {message}", timed_out=True)
    if status == 429:
        return ProviderRateLimited(
            f"provider rate limit: {message}", retry_after_s=_retry_after(error)
        )
    if status in _MISCONFIGURED:
        return DeploymentMisconfigured(f"provider HTTP {status}: {message}", status=status)
    if 400 <= status < 500:
        return ProviderRejected(status, _error_body(status, message, error), message)
    return ReplicaUnreachable(f"provider HTTP {status}: {message}")


def provider_message(error: BaseException) -> str:
    """The provider's own error message, without litellm's decorations."""
    for text in (_response_text(error), getattr(error, "message", None), str(error)):
        if not isinstance(text, str) or not text:
            continue
        found = _message_in(_json_object_in(text))
        if found:
            return found[:_MESSAGE_LIMIT]
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    cleaned = _LITELLM_PREFIX.sub("", str(text)).split(". Handle with `litellm", 1)[0].strip()
    return (cleaned or type(error).__name__)[:_MESSAGE_LIMIT]


def _response_text(error: BaseException) -> str | None:
    response = getattr(error, "response", None)
    try:
        text = getattr(response, "text", None)
    except (RuntimeError, UnicodeDecodeError):  # httpx: body not read, or not text
        return None
    return text if isinstance(text, str) else None


def _json_object_in(text: str) -> Any:
    literal = _BYTES_LITERAL.search(text)
    if literal is not None:
        try:
            value = ast.literal_eval(literal.group(0))
        except (ValueError, SyntaxError):
            value = None
        if isinstance(value, bytes):
            text = value.decode("utf-8", "replace")
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        return orjson.loads(text[start : end + 1])
    except orjson.JSONDecodeError:
        return None


def _message_in(document: Any) -> str | None:
    """OpenAI/Azure ``{"error": {"message"}}``, Anthropic ``{"error": {"message"}}``, Mistral
    ``{"message"}`` or FastAPI-style ``{"detail": str | [{"msg"}]}``."""
    if not isinstance(document, dict):
        return None
    error = document.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    if isinstance(error, str):
        return error
    if isinstance(document.get("message"), str):
        return str(document["message"])
    if isinstance(document.get("message"), dict):  # Mistral's validation errors nest a detail
        return _message_in(document["message"])
    detail = document.get("detail")
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        parts = [item["msg"] for item in detail if isinstance(item, dict) and "msg" in item]
        return "; ".join(str(part) for part in parts) or None
    return None


def _error_body(status: int, message: str, error: BaseException) -> bytes:
    details = _provider_details(error)
    return orjson.dumps(
        {
            "error": {
                "message": message,
                "type": details.get("type") or "invalid_request_error",
                "param": details.get("param"),
                "code": details.get("code") or _status_code_name(status),
            }
        }
    )


def _provider_details(error: BaseException) -> dict[str, str | None]:
    """``type``/``param``/``code`` from the provider's error document, strings only."""
    for text in (_response_text(error), getattr(error, "message", None)):
        document = _json_object_in(text) if isinstance(text, str) else None
        if not isinstance(document, dict):
            continue
        inner = document.get("error")
        source = inner if isinstance(inner, dict) else document
        return {
            key: value if isinstance(value, str) else None
            for key in ("type", "param", "code")
            for value in (source.get(key),)
        }
    return {}


def _status_code_name(status: int) -> str | None:
    return {400: "bad_request", 413: "request_too_large", 422: "unprocessable_entity"}.get(status)


def _retry_after(error: BaseException) -> float | None:
    for headers in (
        getattr(error, "litellm_response_headers", None),
        getattr(getattr(error, "response", None), "headers", None),
    ):
        get = getattr(headers, "get", None)
        value = get("retry-after") if callable(get) else None
        if isinstance(value, str):
            try:
                return max(float(value), 0.0)
            except ValueError:
                continue
    return None
