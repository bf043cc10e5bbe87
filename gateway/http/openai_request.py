"""Reading an OpenAI-style request body: just enough to route and meter it.

The body is otherwise left as the client sent it, so fields the gateway does not know (tools,
response_format, logprobs, seed, vLLM extras) reach the model server untouched.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request

from gateway.errors import BodyTooLarge, InvalidRequest
from gateway.http.json_shape import check_shape

_REQUIRED_FIELD = {"chat": "messages", "completions": "prompt", "embeddings": "input"}


@dataclass(slots=True)
class OpenAICall:
    """A parsed request: the routing facts plus the body to forward."""

    endpoint: str
    model: str
    stream: bool
    client_wants_usage: bool
    body: dict[str, Any]
    raw: bytes | None
    """The client's bytes, or None once the gateway changed the body."""

    def retarget(self, model: str, body: dict[str, Any]) -> OpenAICall:
        """The call as it must leave the gateway: for ``model`` (after a reroute), with ``body``
        (after pseudonymisation). Unchanged calls keep their original bytes."""
        if model == self.model and body is self.body:
            return self
        return dataclasses.replace(self, model=model, body={**body, "model": model}, raw=None)

    def upstream_body(
        self,
        served_model_name: str | None,
        *,
        drop: tuple[str, ...] = (),
        continuous_usage: bool = False,
    ) -> bytes:
        """The bytes to send upstream.

        Untouched unless the gateway must change something: streams always ask for usage (the
        ledger needs it; a vLLM server, ``continuous_usage``, for usage on every chunk, so that
        a stream cut short is billed with its counts), a deployment may serve the model under
        another name, and the server-side parameters in ``drop`` are removed.
        """
        changed = self.raw is None
        body = self.body
        if self.stream:
            options = _stream_options(body)
            wanted = {
                "include_usage": True,
                **({"continuous_usage_stats": True} if continuous_usage else {}),
            }
            if any(options.get(name) is not True for name in wanted):
                body = {**body, "stream_options": {**options, **wanted}}
                changed = True
        if served_model_name and served_model_name != self.model:
            body = {**body, "model": served_model_name}
            changed = True
        if drop:
            body = {k: v for k, v in body.items() if k not in drop}
            changed = True
        return orjson.dumps(body) if changed or self.raw is None else self.raw

    @property
    def client_wants_continuous_usage(self) -> bool:
        """True when the client itself asked for usage on every chunk (vLLM's extension)."""
        options = _stream_options(self.body)
        return self.client_wants_usage and options.get("continuous_usage_stats") is True


def _stream_options(body: dict[str, Any]) -> dict[str, Any]:
    options = body.get("stream_options")
    return options if isinstance(options, dict) else {}


def check_declared_length(content_length: str | None, limit: int) -> None:
    """Refuse early when the declared body size is over ``limit``."""
    if content_length is not None and content_length.isdigit() and int(content_length) > limit:
        raise BodyTooLarge(f"Request body is larger than the limit of {limit} bytes.")


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body; :class:`BodyTooLarge` as soon as it is known to exceed ``limit``
    (declared or sent), so that an oversized body is never held in memory."""
    check_declared_length(request.headers.get("content-length"), limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"Request body is larger than the limit of {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_call(endpoint: str, raw: bytes) -> OpenAICall:
    """Validate the routing fields of a request body; raises :class:`InvalidRequest`."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"The request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    check_shape(raw, body)  # too deep or duplicate keys: 400
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("You must provide a model parameter.", param="model")
    required = _REQUIRED_FIELD[endpoint]
    if body.get(required) in (None, "", []):
        raise InvalidRequest(f"Missing required parameter: '{required}'.", param=required)
    if endpoint == "chat" and not isinstance(body["messages"], list):
        raise InvalidRequest("'messages' must be an array of message objects.", param="messages")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise InvalidRequest("'stream' must be a boolean.", param="stream")
    if stream and endpoint == "embeddings":
        raise InvalidRequest("Embeddings cannot be streamed.", param="stream")
    wants_usage = bool(_stream_options(body).get("include_usage", False))
    return OpenAICall(endpoint, model, stream, wants_usage, body, raw)
