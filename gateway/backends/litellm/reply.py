"""Turning litellm's answers into plain OpenAI-format documents and SSE events.

litellm's objects carry fields of its own (``provider_specific_fields``, ``cost``, Anthropic's
``cache_creation_input_tokens`` at the top of ``usage``, ...). Clients of an OpenAI-compatible
gateway must see the same shape whether a vLLM replica or a provider answered, so every document
here is rebuilt from an allow-list of OpenAI fields, with the gateway's public model name.
"""

from __future__ import annotations

from typing import Any

import orjson

SSE_DONE = b"data: [DONE]\n\n"

_MESSAGE_FIELDS = ("role", "content", "refusal", "reasoning_content", "function_call")
_OBJECT_OF = {"chat": "chat.completion", "completions": "text_completion"}
_CHUNK_OBJECT_OF = {"chat": "chat.completion.chunk", "completions": "text_completion"}


def sse_event(document: dict[str, Any]) -> bytes:
    """One ``data: {...}`` server-sent event."""
    return b"data: " + orjson.dumps(document) + b"\n\n"


def usage_object(usage: Any) -> dict[str, Any] | None:
    """An OpenAI ``usage`` object from litellm's, or None when it holds no figures.

    ``prompt_tokens`` includes cached tokens (OpenAI's convention, which litellm also applies to
    Anthropic's ``cache_read_input_tokens``); ``prompt_tokens_details.cached_tokens`` is present
    only when the provider reported a cached figure.
    """
    if not isinstance(usage, dict):
        return None
    prompt = usage.get("prompt_tokens")
    completion = usage.get("completion_tokens") or 0
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    if prompt + completion == 0:
        # litellm fills in zeros when the provider sent no usage; a real request has a prompt.
        return None
    result: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    if isinstance(cached, int):
        result["prompt_tokens_details"] = {"cached_tokens": cached}
    completion_details = usage.get("completion_tokens_details")
    reasoning = (
        completion_details.get("reasoning_tokens") if isinstance(completion_details, dict) else None
    )
    if isinstance(reasoning, int) and reasoning > 0:
        result["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return result


def estimated_usage(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    """A usage object computed by the gateway (the provider reported none)."""
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def reply_document(
    endpoint: str, response: dict[str, Any], model: str, usage: dict[str, Any]
) -> dict[str, Any]:
    """The complete (non-streaming) OpenAI answer for ``endpoint``."""
    if endpoint == "embeddings":
        return {
            "object": "list",
            "data": [_embedding(item) for item in response.get("data") or ()],
            "model": model,
            "usage": {
                "prompt_tokens": usage["prompt_tokens"],
                "total_tokens": usage["prompt_tokens"],
            },
        }
    shape = _chat_choice if endpoint == "chat" else _text_choice
    document = _header(response, _OBJECT_OF[endpoint], model)
    document["choices"] = [shape(choice) for choice in response.get("choices") or ()]
    document["usage"] = usage
    return document


def chunk_document(endpoint: str, chunk: dict[str, Any], model: str) -> dict[str, Any] | None:
    """The OpenAI stream chunk for a litellm chunk, without usage; None when it has no choices."""
    choices = chunk.get("choices")
    if not choices:
        return None
    shape = _chat_delta_choice if endpoint == "chat" else _text_choice
    document = _header(chunk, _CHUNK_OBJECT_OF[endpoint], model)
    document["choices"] = [shape(choice) for choice in choices]
    return document


def usage_chunk_document(
    endpoint: str, template: dict[str, Any], model: str, usage: dict[str, Any]
) -> dict[str, Any]:
    """The final ``{"choices": [], "usage": {...}}`` chunk, shaped like vLLM's."""
    document = _header(template, _CHUNK_OBJECT_OF[endpoint], model)
    document["choices"] = []
    document["usage"] = usage
    return document


def generated_text(document: dict[str, Any]) -> str:
    """The text a litellm answer or chunk generated (content, reasoning, tool calls)."""
    parts: list[str] = []
    for choice in document.get("choices") or ():
        if not isinstance(choice, dict):
            continue
        if isinstance(choice.get("text"), str):
            parts.append(choice["text"])
        for key in ("message", "delta"):
            if isinstance(choice.get(key), dict):
                parts.extend(_message_text(choice[key]))
    return "".join(parts)


def _message_text(message: dict[str, Any]) -> list[str]:
    parts = [
        message[key]
        for key in ("content", "reasoning_content")
        if isinstance(message.get(key), str)
    ]
    for call in message.get("tool_calls") or ():
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            parts.extend(
                function[key] for key in ("name", "arguments") if isinstance(function.get(key), str)
            )
    return parts


def _header(source: dict[str, Any], kind: str, model: str) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": source.get("id"),
        "object": kind,
        "created": source.get("created"),
        "model": model,
    }
    if source.get("system_fingerprint"):
        document["system_fingerprint"] = source["system_fingerprint"]
    return document


def _chat_choice(choice: dict[str, Any]) -> dict[str, Any]:
    message = choice.get("message") or {}
    shaped: dict[str, Any] = {"role": message.get("role") or "assistant"}
    shaped["content"] = message.get("content")
    for key in _MESSAGE_FIELDS[2:]:
        if message.get(key) is not None:
            shaped[key] = message[key]
    tool_calls = [_tool_call(call) for call in message.get("tool_calls") or ()]
    if tool_calls:
        shaped["tool_calls"] = tool_calls
    return {
        "index": choice.get("index", 0),
        "message": shaped,
        "logprobs": choice.get("logprobs"),
        "finish_reason": choice.get("finish_reason"),
    }


def _chat_delta_choice(choice: dict[str, Any]) -> dict[str, Any]:
    delta = choice.get("delta") or {}
    shaped = {key: delta[key] for key in _MESSAGE_FIELDS if delta.get(key) is not None}
    tool_calls = [_tool_call(call, streamed=True) for call in delta.get("tool_calls") or ()]
    if tool_calls:
        shaped["tool_calls"] = tool_calls
    return {
        "index": choice.get("index", 0),
        "delta": shaped,
        "logprobs": choice.get("logprobs"),
        "finish_reason": choice.get("finish_reason"),
    }


def _text_choice(choice: dict[str, Any]) -> dict[str, Any]:
    return {
        "index": choice.get("index", 0),
        "text": choice.get("text") or "",
        "logprobs": choice.get("logprobs"),
        "finish_reason": choice.get("finish_reason"),
    }


def _tool_call(call: dict[str, Any], *, streamed: bool = False) -> dict[str, Any]:
    function = call.get("function") or {}
    shaped: dict[str, Any] = {}
    if streamed:
        shaped["index"] = call.get("index", 0)
    if call.get("id") is not None or not streamed:
        shaped["id"] = call.get("id")
        shaped["type"] = call.get("type") or "function"
    shaped["function"] = {
        key: function[key] for key in ("name", "arguments") if function.get(key) is not None
    }
    return shaped


def _embedding(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "embedding",
        "index": item.get("index", 0),
        "embedding": item.get("embedding"),
    }
