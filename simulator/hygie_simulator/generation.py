"""/v1/chat/completions and /v1/completions: validate as vLLM does, plan the choices, then answer
in one JSON body or as server-sent events, token by token on the simulated clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.responses import Response

from hygie_simulator import payloads
from hygie_simulator.config import FaultName, ServedModel, SimulatorConfig
from hygie_simulator.engine import Job, Sequence, Timing
from hygie_simulator.errors import (
    InjectedServerError,
    InjectedUnavailable,
    InvalidParameter,
    SimulatorError,
)
from hygie_simulator.protocol import (
    ChatRequest,
    CompletionRequest,
    SamplingRequest,
    SimulationFields,
    check_sampling,
    check_stream_options,
    decode_json_body,
    parse_body,
)
from hygie_simulator.runtime import SimulatorRuntime
from hygie_simulator.streaming import (
    DeferredJSONResponse,
    DroppedConnection,
    Emit,
    EventStreamResponse,
)
from hygie_simulator.text import (
    Generation,
    TokenLogprob,
    derive_seed,
    fake_logprobs,
    natural_length,
    plan_generation,
)
from hygie_simulator.tokenizer import (
    chat_prompt_pieces,
    completion_prompt_tokens,
    split_prompts,
)

_MALFORMED_AFTER_EVENTS = 2
_YIELD_EVERY_STEPS = 32


def check_prompt_length(prompt_tokens: int, served: ServedModel) -> None:
    """vLLM's 400 for a prompt longer than the context (it stops counting at max_model_len+1)."""
    limit = served.max_model_len
    if prompt_tokens > limit:
        raise InvalidParameter(
            f"This model's maximum context length is {limit} tokens. However, your prompt "
            f"contains at least {limit + 1} input tokens, which exceeds this limit even without "
            "any output tokens. Please reduce the length of the input prompt.",
            parameter="input_tokens",
            value=limit + 1,
        )


def output_limit(prompt_tokens: int, max_tokens: int | None, served: ServedModel) -> int:
    """Tokens a choice may generate: `max_tokens` clamped to the room left in the context
    (vLLM clamps rather than rejects; a full context leaves a max_tokens of 0, rejected)."""
    if max_tokens is not None and max_tokens > served.max_model_len:
        raise InvalidParameter(
            f"max_tokens={max_tokens} cannot be greater than max_model_len="
            f"{served.max_model_len}. Please request fewer output tokens.",
            parameter="max_tokens",
            value=max_tokens,
        )
    check_prompt_length(prompt_tokens, served)
    room = served.max_model_len - prompt_tokens
    if room < 1:
        raise InvalidParameter(
            "max_tokens must be at least 1, got 0.", parameter="max_tokens", value=0
        )
    return room if max_tokens is None else min(max_tokens, room)


def early_fault(fault: FaultName | None) -> Response | None:
    """Faults that answer before the engine sees the request."""
    if fault == "http_500":
        raise InjectedServerError()
    if fault == "http_503":
        raise InjectedUnavailable()
    if fault == "drop_connection":
        return DroppedConnection()
    return None


def first_token_override(
    request: SimulationFields, fault: FaultName | None, config: SimulatorConfig
) -> float | None:
    """An absolute time to first token (ms) forced by the request or a `slow` fault."""
    if request.sim_ttft_ms is not None:
        return request.sim_ttft_ms
    if fault == "slow":
        return request.sim_delay_ms if request.sim_delay_ms is not None else config.slow_delay_ms
    return None


def stream_faults(fault: FaultName | None, config: SimulatorConfig) -> dict[str, int | None]:
    return {
        "cut_after": config.disconnect_after_chunks if fault == "disconnect_mid_stream" else None,
        "malformed_after": _MALFORMED_AFTER_EVENTS if fault == "malformed_chunk" else None,
    }


def plan_choices(
    config: SimulatorConfig, prompt_key: int, request: SamplingRequest, limit: int
) -> list[Generation]:
    """The n choices for one prompt, each a pure function of (seed, prompt, choice index)."""
    choices = []
    for index in range(request.n):
        seed = derive_seed(prompt_key, index)
        if request.ignore_eos:
            natural = None
        elif request.sim_output_tokens is not None:
            natural = request.sim_output_tokens
        else:
            natural = natural_length(
                seed, config.default_output_tokens, config.output_tokens_jitter
            )
        choices.append(
            plan_generation(
                seed,
                limit=limit,
                natural=natural,
                stop=request.stop_strings,
                min_tokens=request.min_tokens,
                include_stop_str_in_output=request.include_stop_str_in_output,
            )
        )
    return choices


async def _sleep_until(deadline: float) -> None:
    delay = deadline - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def run_to_completion(job: Job) -> None:
    """Wait for a slot, then for the last token of the longest choice; the job is finished
    (or, when cancelled, aborted)."""
    try:
        await job.admit()
        assert job.admitted is not None
        longest = max(len(seq.generation) for seq in job.sequences)
        await _sleep_until(job.admitted + job.timing.token_offset(max(0, longest - 1)))
        job.finish()
    finally:
        job.close()


TokenChunk = Callable[[int, int, bool], dict[str, Any]]
"""Builds the chunk of token `step` of choice `index`; `last` when no usage chunk follows."""


async def stream_tokens(
    job: Job,
    emit: Emit,
    token_chunk: TokenChunk,
    first_chunks: Callable[[], list[dict[str, Any]]],
    usage_chunk: dict[str, Any] | None,
) -> None:
    """Play `job` as events: `first_chunks()` with the first token, then one chunk per token
    per choice, then the usage chunk (if any) and `[DONE]`."""
    try:
        await job.admit()
        assert job.admitted is not None
        timing: Timing = job.timing
        steps = max(len(seq.generation) for seq in job.sequences)
        for step in range(steps):
            await _sleep_until(job.admitted + timing.token_offset(step))
            if step == 0:
                for chunk in first_chunks():
                    await emit(payloads.sse(chunk))
            for index, seq in enumerate(job.sequences):
                if step < len(seq.generation):
                    await emit(payloads.sse(token_chunk(index, step, usage_chunk is None)))
                    job.record_tokens(index)
            if timing.inter_token_s <= 0.0 and step % _YIELD_EVERY_STEPS == _YIELD_EVERY_STEPS - 1:
                await asyncio.sleep(0)  # let other requests and disconnects be served
        job.finish()
        if usage_chunk is not None:
            await emit(payloads.sse(usage_chunk), final=True)
        await emit(payloads.SSE_DONE, final=True)
    finally:
        job.close()


@dataclass(frozen=True)
class _Context:
    runtime: SimulatorRuntime
    served: ServedModel
    request_id: str
    created: int


def _logprobs_for(
    enabled: bool, key: int, generations: list[Generation], top: int
) -> list[list[TokenLogprob]] | None:
    if not enabled:
        return None
    return [fake_logprobs(derive_seed(key, i), g.tokens, top) for i, g in enumerate(generations)]


async def chat_completions(runtime: SimulatorRuntime, raw: bytes) -> Response:
    """POST /v1/chat/completions."""
    body = decode_json_body(raw)
    check_stream_options(body)
    request = parse_body(ChatRequest, body)
    served = runtime.resolve(request.model, "chat")
    max_tokens = request.requested_max_tokens
    check_sampling(request, max_tokens)
    prompt_tokens = len(chat_prompt_pieces(body["messages"], request.tools))
    limit = output_limit(prompt_tokens, max_tokens, served)
    fault = runtime.draw_fault(request.sim_fault)
    early = early_fault(fault)
    if early is not None:
        return early
    config = runtime.config
    key = derive_seed(
        config.seed,
        served.name,
        orjson.dumps(body["messages"], option=orjson.OPT_SORT_KEYS),
        request.seed,
    )
    generations = plan_choices(config, key, request, limit)
    engine = runtime.engines[served.name]
    job = Job(
        engine,
        [Sequence(prompt_tokens, g) for g in generations],
        engine.timing(prompt_tokens, first_token_override(request, fault, config)),
        max_tokens_param=limit if max_tokens is None else max_tokens,
        n_param=request.n,
        streamed=bool(request.stream),
    )
    top = request.top_logprobs or 0
    logprobs = _logprobs_for(bool(request.logprobs), key, generations, top)
    ctx = _Context(runtime, served, payloads.new_id("chatcmpl"), int(time.time()))
    completion_tokens = sum(len(g) for g in generations)

    if not request.stream:

        async def work() -> dict[str, Any]:
            await run_to_completion(job)
            runtime.report_usage(prompt_tokens, completion_tokens)
            choices = [
                payloads.chat_message_choice(
                    i,
                    g.text,
                    g.finish_reason,
                    g.stop_reason,
                    None
                    if logprobs is None
                    else {"content": [payloads.chat_logprob_entry(x, top) for x in logprobs[i]]},
                )
                for i, g in enumerate(generations)
            ]
            return payloads.chat_completion(
                ctx.request_id,
                ctx.created,
                served.name,
                choices,
                runtime.system_fingerprint,
                payloads.usage(prompt_tokens, completion_tokens),
            )

        return DeferredJSONResponse(work, fault)

    continuous = request.continuous_usage
    include_usage = request.include_usage

    def first_chunks() -> list[dict[str, Any]]:
        usage_body = payloads.continuous_usage(prompt_tokens, 0) if continuous else None
        return [
            payloads.chat_role_chunk(ctx.request_id, ctx.created, served.name, i, usage_body)
            for i in range(len(generations))
        ]

    def token_chunk(index: int, step: int, no_usage_chunk: bool) -> dict[str, Any]:
        generation = generations[index]
        last = step == len(generation) - 1
        return payloads.chat_content_chunk(
            ctx.request_id,
            ctx.created,
            served.name,
            index,
            generation.tokens[step],
            None
            if logprobs is None
            else {"content": [payloads.chat_logprob_entry(logprobs[index][step], top)]},
            (generation.finish_reason, generation.stop_reason) if last else None,
            payloads.continuous_usage(prompt_tokens, step + 1) if continuous else None,
            runtime.system_fingerprint if last and no_usage_chunk else None,
        )

    return _event_stream(
        ctx,
        job,
        token_chunk,
        first_chunks,
        include_usage,
        "chat.completion.chunk",
        prompt_tokens,
        completion_tokens,
        fault,
    )


def _event_stream(
    ctx: _Context,
    job: Job,
    token_chunk: TokenChunk,
    first_chunks: Callable[[], list[dict[str, Any]]],
    include_usage: bool,
    chunk_object: str,
    prompt_tokens: int,
    completion_tokens: int,
    fault: FaultName | None,
) -> Response:
    runtime = ctx.runtime
    usage_chunk = (
        payloads.usage_chunk(
            ctx.request_id,
            chunk_object,
            ctx.created,
            ctx.served.name,
            prompt_tokens,
            completion_tokens,
            runtime.system_fingerprint,
        )
        if include_usage
        else None
    )

    async def run(emit: Emit) -> None:
        async def emit_and_count(payload: bytes, final: bool = False) -> None:
            await emit(payload, final)
            if usage_chunk is not None and final and payload != payloads.SSE_DONE:
                runtime.report_usage(prompt_tokens, completion_tokens)

        await stream_tokens(job, emit_and_count, token_chunk, first_chunks, usage_chunk)

    faults = stream_faults(fault, runtime.config)
    return EventStreamResponse(
        run, cut_after=faults["cut_after"], malformed_after=faults["malformed_after"]
    )


async def completions(runtime: SimulatorRuntime, raw: bytes) -> Response:
    """POST /v1/completions (a batch of prompts gives prompt-major choices, n per prompt)."""
    body = decode_json_body(raw)
    check_stream_options(body)
    request = parse_body(CompletionRequest, body)
    served = runtime.resolve(request.model, "chat")
    max_tokens = request.requested_max_tokens
    check_sampling(request, max_tokens)
    if request.logprobs is not None and request.logprobs < 0:
        raise InvalidParameter(
            f"logprobs must be non-negative, got {request.logprobs}.",
            parameter="logprobs",
            value=request.logprobs,
        )
    try:
        prompts = split_prompts(body["prompt"])
    except ValueError as exc:
        raise SimulatorError(str(exc), param="prompt") from None
    counts = [completion_prompt_tokens(p) for p in prompts]
    limits = [output_limit(count, max_tokens, served) for count in counts]
    fault = runtime.draw_fault(request.sim_fault)
    early = early_fault(fault)
    if early is not None:
        return early
    config = runtime.config
    generations: list[Generation] = []
    sequences: list[Sequence] = []
    keys: list[int] = []
    for prompt, count, limit in zip(prompts, counts, limits, strict=True):
        key = derive_seed(config.seed, served.name, prompt, request.seed)
        for generation in plan_choices(config, key, request, limit):
            generations.append(generation)
            sequences.append(Sequence(count, generation))
            keys.append(key)
    prompt_tokens = sum(counts)
    completion_tokens = sum(len(g) for g in generations)
    engine = runtime.engines[served.name]
    job = Job(
        engine,
        sequences,
        engine.timing(prompt_tokens, first_token_override(request, fault, config)),
        max_tokens_param=max_tokens if max_tokens is not None else min(limits),
        n_param=request.n,
        streamed=bool(request.stream),
    )
    top = request.logprobs
    logprobs = (
        None
        if top is None
        else [
            fake_logprobs(derive_seed(k, i), g.tokens, top)
            for i, (k, g) in enumerate(zip(keys, generations, strict=True))
        ]
    )
    ctx = _Context(runtime, served, payloads.new_id("cmpl"), int(time.time()))

    if not request.stream:

        async def work() -> dict[str, Any]:
            await run_to_completion(job)
            runtime.report_usage(prompt_tokens, completion_tokens)
            choices = [
                payloads.completion_choice(
                    i,
                    g.text,
                    None
                    if logprobs is None
                    else payloads.completion_logprobs(logprobs[i], top or 0, 0),
                    g.finish_reason,
                    g.stop_reason,
                )
                for i, g in enumerate(generations)
            ]
            return payloads.completion(
                ctx.request_id,
                ctx.created,
                served.name,
                choices,
                runtime.system_fingerprint,
                payloads.usage(prompt_tokens, completion_tokens),
            )

        return DeferredJSONResponse(work, fault)

    continuous = request.continuous_usage
    offsets = [0] * len(generations)

    def token_chunk(index: int, step: int, _no_usage_chunk: bool) -> dict[str, Any]:
        generation = generations[index]
        token = generation.tokens[step]
        chunk_logprobs = None
        if logprobs is not None:
            chunk_logprobs = payloads.completion_logprobs(
                [logprobs[index][step]], top or 0, offsets[index]
            )
        offsets[index] += len(token)
        last = step == len(generation) - 1
        return payloads.completion_chunk(
            ctx.request_id,
            ctx.created,
            served.name,
            index,
            token,
            chunk_logprobs,
            (generation.finish_reason, generation.stop_reason) if last else None,
            payloads.stream_usage(sequences[index].prompt_tokens, step + 1) if continuous else None,
            None,
        )

    return _event_stream(
        ctx,
        job,
        token_chunk,
        list,
        request.include_usage,
        "text_completion",
        prompt_tokens,
        completion_tokens,
        fault,
    )


Handler = Callable[[SimulatorRuntime, bytes], Awaitable[Response]]
