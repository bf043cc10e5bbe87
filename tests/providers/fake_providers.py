"""Local imitations of the OpenAI, Azure OpenAI, Mistral and Anthropic HTTP APIs.

Each route is ``/{provider}/{tag}/{scenario}/...`` followed by the provider's own path, so a test
points litellm's ``api_base`` at its own tag (to find the requests it caused) and scenario:

``ok``            a normal answer (JSON, or SSE when ``stream`` is true)
``tools``         Anthropic only: the model calls the ``get_ward_census`` tool
``no-usage``      OpenAI only: the answer carries no usage, even when asked for it
``error-NNN``     the provider's error document with HTTP status NNN
``slow``          answers after 2 s
``drip``          streams 200 content chunks 10 ms apart (to watch a client leave)
``stall``         streams two chunks then pauses 3 s
``broken``        Anthropic only: streams a chunk then an ``error`` event (overloaded)

Credentials are checked the way each provider does (``Authorization: Bearer``, Azure's
``api-key``, Anthropic's ``x-api-key`` + ``anthropic-version``) against :data:`GATEWAY_SECRET`.
The wire formats follow the providers' public API references; the documents are constructed,
not recorded.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

GATEWAY_SECRET = "gateway-secret-for-tests"
ANSWER_PIECES = ("Bonjour", " docteur", ".")
ANSWER = "".join(ANSWER_PIECES)
# Usage every fake reports: 21 prompt tokens of which 8 were served from the provider's cache.
PROMPT_TOKENS, CACHED_TOKENS, COMPLETION_TOKENS = 21, 8, 3
EMBEDDING = [0.25, -0.5, 0.125]

# Mistral refuses fields it does not know (HTTP 422 "Extra inputs are not permitted").
MISTRAL_FIELDS = frozenset(
    {
        "model",
        "messages",
        "temperature",
        "top_p",
        "max_tokens",
        "stream",
        "stop",
        "random_seed",
        "response_format",
        "tools",
        "tool_choice",
        "presence_penalty",
        "frequency_penalty",
        "n",
        "safe_prompt",
        "parallel_tool_calls",
        "input",
        "encoding_format",
        "output_dimension",
    }
)


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as a provider saw it."""

    provider: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Recorder:
    """Requests received and stream outcomes, per test tag (written by the server thread)."""

    requests: dict[str, list[ReceivedRequest]] = field(default_factory=dict)
    stream_outcomes: dict[str, str] = field(default_factory=dict)
    chunks_sent: dict[str, int] = field(default_factory=dict)
    _outcome_recorded: threading.Condition = field(default_factory=threading.Condition)

    def of(self, tag: str) -> list[ReceivedRequest]:
        return self.requests.get(tag, [])

    def record_outcome(self, tag: str, outcome: str) -> None:
        with self._outcome_recorded:
            self.stream_outcomes[tag] = outcome
            self._outcome_recorded.notify_all()

    def wait_for_outcome(self, tag: str, timeout_s: float) -> str | None:
        """How the stream of ``tag`` ended (blocking, for a worker thread); None if not yet."""
        with self._outcome_recorded:
            self._outcome_recorded.wait_for(lambda: tag in self.stream_outcomes, timeout_s)
            return self.stream_outcomes.get(tag)


def create_fake_providers(recorder: Recorder) -> Starlette:
    """The Starlette app serving every imitated provider."""

    def route(path: str, provider: str, answer: Callable[..., Any]) -> Route:
        async def endpoint(request: Request) -> Response:
            body = orjson.loads(await request.body() or b"{}")
            tag, scenario = request.path_params["tag"], request.path_params["scenario"]
            recorder.requests.setdefault(tag, []).append(
                ReceivedRequest(
                    provider,
                    request.url.path,
                    dict(request.query_params),
                    {key.lower(): value for key, value in request.headers.items()},
                    body,
                )
            )
            refused = _check_credentials(provider, request)
            if refused is not None:
                return refused
            if scenario.startswith("error-"):
                return _error(provider, int(scenario.removeprefix("error-")))
            if scenario == "slow":
                await asyncio.sleep(2)
            answer_kind: Callable[..., Response] = answer
            return answer_kind(body, scenario, _StreamLog(recorder, tag), request.path_params)

        return Route(f"/{provider}/{{tag}}/{{scenario}}{path}", endpoint, methods=["POST"])

    return Starlette(
        routes=[
            route("/v1/chat/completions", "openai", _openai_chat),
            route("/v1/completions", "openai", _openai_text),
            route("/v1/embeddings", "openai", _openai_embeddings),
            route("/openai/deployments/{deployment}/chat/completions", "azure", _openai_chat),
            route("/openai/deployments/{deployment}/embeddings", "azure", _openai_embeddings),
            route("/v1/chat/completions", "mistral", _mistral_chat),
            route("/v1/embeddings", "mistral", _mistral_embeddings),
            route("/v1/messages", "anthropic", _anthropic_messages),
        ]
    )


@dataclass
class _StreamLog:
    recorder: Recorder
    tag: str

    def sent(self, count: int) -> None:
        self.recorder.chunks_sent[self.tag] = count

    def outcome(self, outcome: str) -> None:
        self.recorder.record_outcome(self.tag, outcome)


def _check_credentials(provider: str, request: Request) -> Response | None:
    headers = request.headers
    if provider in ("openai", "mistral"):
        if headers.get("authorization") != f"Bearer {GATEWAY_SECRET}":
            return _error(provider, 401)
    elif provider == "azure":
        if "api-version" not in request.query_params:
            return JSONResponse({"error": {"code": "404", "message": "Resource not found"}}, 404)
        if headers.get("api-key") != GATEWAY_SECRET:
            return _error(provider, 401)
    elif headers.get("x-api-key") != GATEWAY_SECRET or not headers.get("anthropic-version"):
        return _error(provider, 401)
    return None


_ERROR_TEXT = {
    400: "fake {p}: 'max_tokens' is too large for this model",
    401: "fake {p}: incorrect API key provided",
    429: "fake {p}: rate limit reached for requests",
    500: "fake {p}: the server had an error while processing your request",
    503: "fake {p}: the engine is currently overloaded",
}


def _error(provider: str, status: int) -> Response:
    message = _ERROR_TEXT.get(status, "fake {p}: error {s}").format(p=provider, s=status)
    headers = {"retry-after": "7"} if status == 429 else {}
    if provider == "anthropic":
        kind = {400: "invalid_request_error", 401: "authentication_error"}.get(status, "api_error")
        document: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": message}}
    elif provider == "mistral":
        document = {"object": "error", "message": message, "type": "invalid_request_error"}
        document |= {"param": None, "code": str(status)}
    else:
        document = {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": "max_tokens" if status == 400 else None,
                "code": "invalid_api_key" if status == 401 else None,
            }
        }
    return JSONResponse(document, status, headers=headers)


# --- OpenAI, Azure OpenAI ---------------------------------------------------------------------

_ids = itertools.count(1)


def _openai_usage(*, cached: bool = True) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": COMPLETION_TOKENS,
        "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
    }
    if cached:
        usage["prompt_tokens_details"] = {"cached_tokens": CACHED_TOKENS, "audio_tokens": 0}
    return usage


def _openai_chat(body: dict[str, Any], scenario: str, log: _StreamLog, params: Any) -> Response:
    base = {"id": f"chatcmpl-fake{next(_ids)}", "created": 1_760_000_000, "model": body["model"]}
    base["system_fingerprint"] = "fp_fake"
    if body.get("stream"):
        wants_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        usage = _openai_usage() if wants_usage and scenario != "no-usage" else None
        return _sse(_openai_chat_events(base, usage, scenario, log))
    document = {
        **base,
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": ANSWER, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
    }
    if scenario != "no-usage":
        document["usage"] = _openai_usage()
    return JSONResponse(document)


async def _openai_chat_events(
    base: dict[str, Any], usage: dict[str, Any] | None, scenario: str, log: _StreamLog
) -> AsyncIterator[bytes]:
    chunk = {**base, "object": "chat.completion.chunk"}

    def choice(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choices = [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        return _data({**chunk, "choices": choices})

    yield choice({"role": "assistant", "content": ""})
    pieces: list[str] = list(ANSWER_PIECES)
    if scenario == "drip":
        pieces = [f"mot{i} " for i in range(200)]
    completed = False
    try:
        for number, piece in enumerate(pieces, start=1):
            yield choice({"content": piece})
            log.sent(number)
            if scenario == "drip":
                await asyncio.sleep(0.01)
            if scenario == "stall" and number == 2:
                await asyncio.sleep(3)
        completed = True
    finally:
        log.outcome("completed" if completed else "client_gone")
    yield choice({}, "stop")
    if usage is not None:
        yield _data({**chunk, "choices": [], "usage": usage})
    yield b"data: [DONE]\n\n"


def _openai_text(body: dict[str, Any], scenario: str, log: _StreamLog, params: Any) -> Response:
    base = {"id": f"cmpl-fake{next(_ids)}", "object": "text_completion", "model": body["model"]}
    base["created"] = 1_760_000_000
    if body.get("stream"):

        async def events() -> AsyncIterator[bytes]:
            for piece in ANSWER_PIECES:
                choice = {"index": 0, "text": piece, "logprobs": None, "finish_reason": None}
                yield _data({**base, "choices": [choice]})
            yield _data({**base, "choices": [{"index": 0, "text": "", "finish_reason": "length"}]})
            if (body.get("stream_options") or {}).get("include_usage"):
                yield _data({**base, "choices": [], "usage": _openai_usage(cached=False)})
            yield b"data: [DONE]\n\n"

        return _sse(events())
    choice = {"index": 0, "text": ANSWER, "logprobs": None, "finish_reason": "length"}
    return JSONResponse({**base, "choices": [choice], "usage": _openai_usage(cached=False)})


def _openai_embeddings(
    body: dict[str, Any], scenario: str, log: _StreamLog, params: Any
) -> Response:
    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
    return JSONResponse(
        {
            "object": "list",
            "data": [
                {"object": "embedding", "index": index, "embedding": EMBEDDING}
                for index, _ in enumerate(inputs)
            ],
            "model": body.get("model", "text-embedding-3-small"),
            "usage": {"prompt_tokens": 2 * len(inputs), "total_tokens": 2 * len(inputs)},
        }
    )


# --- Mistral ----------------------------------------------------------------------------------


def _mistral_extra_fields(body: dict[str, Any]) -> Response | None:
    extra = sorted(set(body) - MISTRAL_FIELDS)
    if not extra:
        return None
    detail = [
        {"type": "extra_forbidden", "loc": ["body", name], "msg": "Extra inputs are not permitted"}
        for name in extra
    ]
    return JSONResponse(
        {"object": "error", "message": {"detail": detail}, "type": "invalid_request_error"}, 422
    )


def _mistral_chat(body: dict[str, Any], scenario: str, log: _StreamLog, params: Any) -> Response:
    refused = _mistral_extra_fields(body)
    if refused is not None:
        return refused
    base = {"id": f"cmpl-{next(_ids):032x}", "created": 1_760_000_000, "model": body["model"]}
    usage = _openai_usage(cached=False)
    if body.get("stream"):

        async def events() -> AsyncIterator[bytes]:
            chunk = {**base, "object": "chat.completion.chunk"}
            yield _data(
                {
                    **chunk,
                    "choices": [
                        {
                            "index": 0,
                            "delta": {"role": "assistant", "content": ""},
                            "finish_reason": None,
                        }
                    ],
                }
            )
            for piece in ANSWER_PIECES:
                yield _data(
                    {
                        **chunk,
                        "choices": [
                            {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                        ],
                    }
                )
            # Mistral puts usage on the last chunk, next to the finish reason.
            last = {"index": 0, "delta": {"content": ""}, "finish_reason": "stop"}
            yield _data({**chunk, "choices": [last], "usage": usage})
            yield b"data: [DONE]\n\n"

        return _sse(events())
    message = {"role": "assistant", "content": ANSWER, "tool_calls": None, "prefix": False}
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    return JSONResponse({**base, "object": "chat.completion", "choices": [choice], "usage": usage})


def _mistral_embeddings(
    body: dict[str, Any], scenario: str, log: _StreamLog, params: Any
) -> Response:
    return _mistral_extra_fields(body) or _openai_embeddings(body, scenario, log, params)


# --- Anthropic --------------------------------------------------------------------------------


def _anthropic_messages(
    body: dict[str, Any], scenario: str, log: _StreamLog, params: Any
) -> Response:
    invalid = _anthropic_invalid(body)
    if invalid is not None:
        return JSONResponse(
            {"type": "error", "error": {"type": "invalid_request_error", "message": invalid}}, 400
        )
    usage_in = {
        "input_tokens": PROMPT_TOKENS - CACHED_TOKENS,
        "cache_read_input_tokens": CACHED_TOKENS,
        "cache_creation_input_tokens": 0,
    }
    message = {
        "id": f"msg_fake{next(_ids)}",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "stop_sequence": None,
    }
    if scenario == "tools":
        content: list[dict[str, Any]] = [
            {"type": "text", "text": "Je consulte le service."},
            {
                "type": "tool_use",
                "id": "toolu_fake1",
                "name": "get_ward_census",
                "input": {"ward": "cardiologie"},
            },
        ]
        stop_reason = "tool_use"
    else:
        content, stop_reason = [{"type": "text", "text": ANSWER}], "end_turn"
    if body.get("stream"):
        return _sse(_anthropic_events(message, content, stop_reason, usage_in, scenario, log))
    usage = {**usage_in, "output_tokens": COMPLETION_TOKENS}
    return JSONResponse({**message, "content": content, "stop_reason": stop_reason, "usage": usage})


def _anthropic_invalid(body: dict[str, Any]) -> str | None:
    """The checks the real Messages API makes that a translation could get wrong."""
    if not isinstance(body.get("max_tokens"), int):
        return "max_tokens: Field required"
    for index, message in enumerate(body.get("messages") or ()):
        if message.get("role") not in ("user", "assistant"):
            return f"messages.{index}.role: Input should be 'user' or 'assistant'"
    return None


async def _anthropic_events(
    message: dict[str, Any],
    content: list[dict[str, Any]],
    stop_reason: str,
    usage_in: dict[str, Any],
    scenario: str,
    log: _StreamLog,
) -> AsyncIterator[bytes]:
    start = {
        **message,
        "content": [],
        "stop_reason": None,
        "usage": {**usage_in, "output_tokens": 1},
    }
    yield _event("message_start", {"type": "message_start", "message": start})
    yield _event("ping", {"type": "ping"})
    for index, block in enumerate(content):
        if block["type"] == "text":
            opening: dict[str, Any] = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": piece} for piece in ANSWER_PIECES]
            if block["text"] != ANSWER:
                deltas = [{"type": "text_delta", "text": block["text"]}]
        else:
            opening = {**block, "input": {}}
            arguments = orjson.dumps(block["input"]).decode()
            half = len(arguments) // 2
            deltas = [
                {"type": "input_json_delta", "partial_json": arguments[:half]},
                {"type": "input_json_delta", "partial_json": arguments[half:]},
            ]
        yield _event(
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": opening},
        )
        for number, delta in enumerate(deltas, start=1):
            yield _event(
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
            )
            log.sent(number)
            if scenario == "broken":
                error = {"type": "overloaded_error", "message": "Overloaded"}
                yield _event("error", {"type": "error", "error": error})
                return
        yield _event("content_block_stop", {"type": "content_block_stop", "index": index})
    yield _event(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": COMPLETION_TOKENS},
        },
    )
    yield _event("message_stop", {"type": "message_stop"})
    log.outcome("completed")


# --- SSE ----------------------------------------------------------------------------------------


def _data(document: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(document) + b"\n\n"


def _event(name: str, document: dict[str, Any]) -> bytes:
    return f"event: {name}\n".encode() + _data(document)


def _sse(events: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(events, media_type="text/event-stream")
