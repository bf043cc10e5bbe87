"""What a call may make its model generate, checked against the model's caps.

The quota reservation holds this bound, so it must count everything the upstream will really
do: every choice (``n``, ``best_of``) of every prompt, each up to the output limit the upstream
applies. That limit is the client's ``max_tokens`` when given; otherwise vLLM's own default:
16 tokens for ``/v1/completions``, the rest of the context for chat. The body is never changed
to make the bound hold: the answer must not depend on whether a budget applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from billing.pricing.token_estimate import prompt_count
from gateway.catalog import ModelSpec
from gateway.errors import InvalidRequest
from gateway.http.openai_request import OpenAICall

COMPLETIONS_DEFAULT_MAX_TOKENS = 16
"""vLLM's (and OpenAI's) ``max_tokens`` for a completions request that gives none."""


@dataclass(frozen=True, slots=True)
class CallBounds:
    """The most a valid call can generate."""

    sequences: int
    """Outputs generated: ``max(n, best_of)`` per prompt; 0 for embeddings."""
    per_sequence: int
    """Tokens each output may reach (0 for embeddings)."""
    open_ended: bool
    """No ``max_tokens`` from the client and only the context bounds each output (chat)."""

    @property
    def output_tokens(self) -> int:
        """The most output tokens the call can generate, all its outputs together."""
        return self.sequences * self.per_sequence

    def first_hold(self, streamed: bool, stream_hold: int) -> int:
        """Output tokens to hold before forwarding.

        All the call can generate, except for an open-ended stream: it first holds
        ``stream_hold`` per output and is topped up as it goes (and stopped when a budget
        refuses), so that a short chat answer does not need a whole context's budget.
        """
        if streamed and self.open_ended:
            return self.sequences * min(stream_hold, self.per_sequence)
        return self.output_tokens


def bounds_of(call: OpenAICall, model: ModelSpec, *, default_max_model_len: int) -> CallBounds:
    """The bound of ``call`` on ``model``; :class:`InvalidRequest` naming the parameter when a
    value is not a positive integer or is over the model's caps."""
    caps, body = model.caps, call.body
    context = model.max_model_len or default_max_model_len
    if call.endpoint == "embeddings":
        _count_within(prompt_count(body.get("input")), caps.max_embedding_inputs, "input")
        return CallBounds(sequences=0, per_sequence=0, open_ended=False)
    n = _positive_int(body, "n", caps.max_n) or 1
    best_of = _positive_int(body, "best_of", caps.max_best_of) or n
    prompts = 1
    if call.endpoint == "completions":
        prompts = _count_within(prompt_count(body.get("prompt")), caps.max_prompts, "prompt")
    sequences = prompts * max(n, best_of)
    if call.endpoint == "chat":
        # vLLM reads max_completion_tokens first; both must be valid when both are sent.
        newer = _positive_int(body, "max_completion_tokens", context)
        older = _positive_int(body, "max_tokens", context)
        requested = newer if newer is not None else older
        if requested is None:
            return CallBounds(sequences, per_sequence=context, open_ended=True)
        return CallBounds(sequences, per_sequence=requested, open_ended=False)
    requested = _positive_int(body, "max_tokens", context)
    per_sequence = requested if requested is not None else COMPLETIONS_DEFAULT_MAX_TOKENS
    return CallBounds(sequences, per_sequence=per_sequence, open_ended=False)


def _positive_int(body: dict[str, Any], name: str, cap: int) -> int | None:
    """``body[name]`` when it is an integer from 1 to ``cap``; None when absent or null."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequest(f"'{name}' must be a positive integer.", param=name)
    if value > cap:
        raise InvalidRequest(f"'{name}' must be at most {cap} for this model.", param=name)
    return value


def _count_within(count: int, cap: int, name: str) -> int:
    if count > cap:
        raise InvalidRequest(
            f"'{name}' holds {count} items; this model accepts at most {cap} per request.",
            param=name,
        )
    return count
