"""Request schemas of the simulated endpoints and vLLM's checks on sampling parameters.

Parsing raises `RequestValidationFailure` with the pydantic-style message vLLM returns; the checks
raise `InvalidParameter` with vLLM's wording. Fields a schema does not name are ignored, as vLLM
ignores them.
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hygie_simulator.config import FaultName
from hygie_simulator.errors import InvalidParameter, validation_failure


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool | None = False  # vLLM's default: `{}` or continuous stats alone get none
    continuous_usage_stats: bool | None = False


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: Any = None


class SimulationFields(BaseModel):
    """Control fields understood by the simulator only (see the package docstring)."""

    model_config = ConfigDict(extra="ignore")

    sim_fault: FaultName | None = None
    sim_delay_ms: float | None = Field(default=None, ge=0)
    sim_output_tokens: int | None = Field(default=None, ge=1)
    sim_ttft_ms: float | None = Field(default=None, ge=0)


class SamplingRequest(SimulationFields):
    """Fields shared by chat and completions requests."""

    model: str | None = None
    max_tokens: int | None = None
    n: int = 1
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    presence_penalty: float | None = 0.0
    frequency_penalty: float | None = 0.0
    stop: str | list[str] | None = None
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    seed: int | None = None
    ignore_eos: bool = False
    min_tokens: int = 0
    include_stop_str_in_output: bool = False

    @property
    def stop_strings(self) -> tuple[str, ...]:
        if self.stop is None:
            return ()
        if isinstance(self.stop, str):
            return (self.stop,) if self.stop else ()
        return tuple(s for s in self.stop if s)

    @property
    def include_usage(self) -> bool:
        return bool(self.stream and self.stream_options and self.stream_options.include_usage)

    @property
    def continuous_usage(self) -> bool:
        return bool(
            self.include_usage
            and self.stream_options is not None
            and self.stream_options.continuous_usage_stats
        )


class ChatRequest(SamplingRequest):
    messages: list[ChatMessage]
    max_completion_tokens: int | None = None
    logprobs: bool | None = False
    top_logprobs: int | None = 0
    tools: list[dict[str, Any]] | None = None

    @property
    def requested_max_tokens(self) -> int | None:
        return (
            self.max_completion_tokens
            if self.max_completion_tokens is not None
            else (self.max_tokens)
        )


PromptField = str | list[str] | list[int] | list[list[int]]


class CompletionRequest(SamplingRequest):
    prompt: PromptField
    logprobs: int | None = None
    echo: bool = False

    @property
    def requested_max_tokens(self) -> int | None:
        # vLLM's completions default is 16 tokens, unlike chat (rest of the context).
        return 16 if self.max_tokens is None else self.max_tokens


class EmbeddingRequest(SimulationFields):
    model: str | None = None
    input: PromptField
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = None


class TokenizeRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str | None = None
    prompt: str | None = None
    messages: list[ChatMessage] | None = None
    tools: list[dict[str, Any]] | None = None
    add_special_tokens: bool | None = None
    add_generation_prompt: bool = True
    return_token_strs: bool | None = False


def decode_json_body(raw: bytes) -> Any:
    """The request body as JSON, or the 400 FastAPI gives for an empty or broken body."""
    if not raw.strip():
        raise validation_failure(
            [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
        )
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    # Slow path, errors only: the standard library gives the position and wording FastAPI shows.
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise validation_failure(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", exc.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": exc.msg},
                }
            ]
        ) from None
    except UnicodeDecodeError:
        raise validation_failure(
            [{"type": "json_invalid", "loc": ("body", 0), "msg": "JSON decode error", "input": {}}]
        ) from None


SchemaT = TypeVar("SchemaT", bound=BaseModel)


def parse_body(schema: type[SchemaT], body: Any) -> SchemaT:
    """`body` validated against `schema`, or the vLLM-style 400."""
    try:
        return schema.model_validate(body)
    except ValidationError as exc:
        errors = [
            {**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_url=False)
        ]
        raise validation_failure(errors) from None


def check_stream_options(body: Any) -> None:
    """vLLM's check before any other: stream options (any non-empty value) need a stream."""
    if isinstance(body, dict) and body.get("stream_options") and not body.get("stream"):
        raise InvalidParameter(
            "Stream options can only be defined when `stream=True`.", parameter="stream_options"
        )


def check_sampling(request: SamplingRequest, max_tokens: int | None) -> None:
    """vLLM's checks on sampling parameters (SamplingParams._verify_args), same wording."""
    if request.n < 1:
        raise InvalidParameter(
            f"n must be at least 1, got {request.n}.", parameter="n", value=request.n
        )
    for name in ("presence_penalty", "frequency_penalty"):
        value = getattr(request, name)
        if value is not None and not -2.0 <= value <= 2.0:
            raise InvalidParameter(
                f"{name} must be in [-2, 2], got {value}.", parameter=name, value=value
            )
    temperature = request.temperature
    if temperature is not None and temperature < 0.0:
        raise InvalidParameter(
            f"temperature must be non-negative, got {temperature}.",
            parameter="temperature",
            value=temperature,
        )
    top_p = request.top_p
    if top_p is not None and not 0.0 < top_p <= 1.0:
        raise InvalidParameter(
            f"top_p must be in (0, 1], got {top_p}.", parameter="top_p", value=top_p
        )
    top_k = request.top_k
    if top_k is not None and top_k < -1:
        raise InvalidParameter(
            f"top_k must be 0 (disable), or at least 1, got {top_k}.",
            parameter="top_k",
            value=top_k,
        )
    if max_tokens is not None and max_tokens < 1:
        raise InvalidParameter(
            f"max_tokens must be at least 1, got {max_tokens}.",
            parameter="max_tokens",
            value=max_tokens,
        )
    if request.min_tokens < 0:
        raise InvalidParameter(
            f"min_tokens must be greater than or equal to 0, got {request.min_tokens}.",
            parameter="min_tokens",
            value=request.min_tokens,
        )
    if max_tokens is not None and request.min_tokens > max_tokens:
        raise InvalidParameter(
            f"min_tokens must be less than or equal to max_tokens={max_tokens}, "
            f"got {request.min_tokens}.",
            parameter="min_tokens",
            value=request.min_tokens,
        )
