"""/v1/embeddings: deterministic unit vectors, float or base64, with vLLM's usage and errors."""

from __future__ import annotations

import time
from typing import Any

from starlette.responses import Response

from hygie_simulator import payloads
from hygie_simulator.embedding import embed_text, embed_token_ids, to_base64
from hygie_simulator.engine import Job, Sequence
from hygie_simulator.errors import InvalidParameter, SimulatorError
from hygie_simulator.generation import (
    check_prompt_length,
    early_fault,
    first_token_override,
    run_to_completion,
)
from hygie_simulator.protocol import EmbeddingRequest, decode_json_body, parse_body
from hygie_simulator.runtime import SimulatorRuntime
from hygie_simulator.streaming import DeferredJSONResponse
from hygie_simulator.text import Generation
from hygie_simulator.tokenizer import embedding_input_tokens, split_prompts

_NO_OUTPUT = Generation((), "stop", None)


def _vector(item: str | list[int], dim: int, out_dim: int, seed: int) -> list[float]:
    full = (
        embed_text(item, dim, seed) if isinstance(item, str) else embed_token_ids(item, dim, seed)
    )
    if out_dim == dim:
        return full
    # Matryoshka-style: keep the first dimensions, renormalised.
    head = full[:out_dim]
    norm = sum(v * v for v in head) ** 0.5 or 1.0
    return [v / norm for v in head]


async def embeddings(runtime: SimulatorRuntime, raw: bytes) -> Response:
    """POST /v1/embeddings."""
    body = decode_json_body(raw)
    request = parse_body(EmbeddingRequest, body)
    served = runtime.resolve(request.model, "embedding")
    try:
        items = split_prompts(body["input"])
    except ValueError as exc:
        raise SimulatorError(str(exc), param="input") from None
    counts = [embedding_input_tokens(item) for item in items]
    for count in counts:
        check_prompt_length(count, served)
    dim = served.embedding_dim
    out_dim = dim if request.dimensions is None else request.dimensions
    if not 1 <= out_dim <= dim:
        raise InvalidParameter(
            f"dimensions must be between 1 and {dim}, got {out_dim}.",
            parameter="dimensions",
            value=out_dim,
        )
    fault = runtime.draw_fault(request.sim_fault)
    early = early_fault(fault)
    if early is not None:
        return early
    config = runtime.config
    engine = runtime.engines[served.name]
    prompt_tokens = sum(counts)
    job = Job(
        engine,
        [Sequence(count, _NO_OUTPUT) for count in counts],
        engine.timing(prompt_tokens, first_token_override(request, fault, config)),
        max_tokens_param=1,
        n_param=1,
        streamed=False,
    )
    request_id = payloads.new_id("embd")
    created = int(time.time())

    async def work() -> dict[str, Any]:
        await run_to_completion(job)
        runtime.report_usage(prompt_tokens, 0)
        vectors = [_vector(item, dim, out_dim, config.seed) for item in items]
        data: list[Any] = (
            [to_base64(v) for v in vectors] if request.encoding_format == "base64" else vectors
        )
        return payloads.embedding_list(request_id, created, served.name, data, prompt_tokens)

    return DeferredJSONResponse(work, fault)
