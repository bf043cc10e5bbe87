"""The arguments an external provider call receives, built from a client's OpenAI-style body.

Only documented OpenAI request parameters pass (an allow-list, not a deny-list): litellm treats
many keyword arguments as its own settings (``api_key``, ``api_base``, ``base_url``,
``extra_headers``, ``mock_response``, ``metadata``, callbacks, ...), so a field a client adds to
its body must never reach it unless it is known to mean an OpenAI parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.catalog import Deployment

# Parameters a client may set, per endpoint. ``store``, ``metadata`` and ``service_tier`` are
# left out on purpose: they ask the provider to keep the conversation or bill it differently,
# which is the hospital's decision (catalog), not the caller's.
_CHAT = frozenset(
    {
        "messages",
        "frequency_penalty",
        "function_call",
        "functions",
        "logit_bias",
        "logprobs",
        "max_completion_tokens",
        "max_tokens",
        "n",
        "parallel_tool_calls",
        "presence_penalty",
        "reasoning_effort",
        "response_format",
        "seed",
        "stop",
        "temperature",
        "tool_choice",
        "tools",
        "top_logprobs",
        "top_p",
        "user",
    }
)
_COMPLETIONS = frozenset(
    {
        "prompt",
        "best_of",
        "echo",
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "max_tokens",
        "n",
        "presence_penalty",
        "seed",
        "stop",
        "suffix",
        "temperature",
        "top_p",
        "user",
    }
)
_EMBEDDINGS = frozenset({"input", "dimensions", "encoding_format", "user"})

ALLOWED_PARAMETERS: dict[str, frozenset[str]] = {
    "chat": _CHAT,
    "completions": _COMPLETIONS,
    "embeddings": _EMBEDDINGS,
}

# Fields the gateway sets itself; not reported as dropped.
_SET_BY_GATEWAY = frozenset({"model", "stream", "stream_options"})


class UnsupportedEndpoint(ValueError):
    """The endpoint is not one of ``chat``, ``completions``, ``embeddings``."""


@dataclass(frozen=True, slots=True)
class ProviderRequest:
    """Keyword arguments for one litellm call, and the client fields that were left out."""

    arguments: dict[str, Any]
    dropped: tuple[str, ...]


def build_provider_request(
    deployment: Deployment,
    endpoint: str,
    body: dict[str, Any],
    *,
    api_key: str | None,
    stream: bool,
) -> ProviderRequest:
    """The litellm arguments for ``body`` sent to ``deployment``.

    Guarantees: the model is the deployment's ``litellm_model``; ``api_key``/``api_base`` come
    from the gateway, never from the body; only allow-listed OpenAI parameters of ``endpoint``
    are copied; a stream always asks for a final usage chunk; litellm never retries (the router
    does). Timeouts are not set here (the client owns them).
    """
    allowed = ALLOWED_PARAMETERS.get(endpoint)
    if allowed is None:
        raise UnsupportedEndpoint(endpoint)
    arguments: dict[str, Any] = {key: value for key, value in body.items() if key in allowed}
    dropped = tuple(sorted(key for key in body if key not in allowed | _SET_BY_GATEWAY))
    arguments["model"] = deployment.litellm_model
    if deployment.api_base is not None:
        # pydantic adds a trailing slash to a bare host; litellm appends paths to api_base.
        arguments["api_base"] = str(deployment.api_base).rstrip("/")
    if api_key is not None:
        arguments["api_key"] = api_key
    arguments["num_retries"] = 0
    # An OpenAI client sends parameters some providers lack (seed to Anthropic, n, logit_bias):
    # they are ignored, as an OpenAI-compatible server would, instead of failing the request.
    arguments["drop_params"] = True
    if stream:
        arguments["stream"] = True
        arguments["stream_options"] = {"include_usage": True}
    return ProviderRequest(arguments, dropped)
