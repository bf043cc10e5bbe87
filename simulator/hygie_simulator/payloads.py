"""Response bodies with vLLM 0.32's exact keys, key order and nulls."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

import orjson

from hygie_simulator.config import ServedModel
from hygie_simulator.text import TokenLogprob


def new_id(prefix: str) -> str:
    """`<prefix>-<16 hex>` like vLLM's request ids (random: ids must never repeat)."""
    return f"{prefix}-{secrets.token_hex(8)}"


def sse(payload: dict[str, Any]) -> bytes:
    """One server-sent event carrying `payload` as compact JSON."""
    return b"data: " + orjson.dumps(payload) + b"\n\n"


SSE_DONE = b"data: [DONE]\n\n"


def usage(prompt: int, completion: int) -> dict[str, Any]:
    """The usage object of a complete (non-streamed) response."""
    return {
        "prompt_tokens": prompt,
        "total_tokens": prompt + completion,
        "completion_tokens": completion,
        "prompt_tokens_details": None,
        "completion_tokens_details": None,
    }


def stream_usage(prompt: int, completion: int) -> dict[str, Any]:
    """The usage of the final `choices: []` chunk, and of every completions chunk under
    `continuous_usage_stats` (vLLM's completions form: no `completion_tokens_details`)."""
    return {
        "prompt_tokens": prompt,
        "total_tokens": prompt + completion,
        "completion_tokens": completion,
    }


def continuous_usage(prompt: int, completion: int) -> dict[str, Any]:
    """The usage carried by every chat chunk when `continuous_usage_stats` is set."""
    return {
        "prompt_tokens": prompt,
        "total_tokens": prompt + completion,
        "completion_tokens": completion,
        "completion_tokens_details": None,
    }


def chat_logprob_entry(item: TokenLogprob, top: int) -> dict[str, Any]:
    ranked = [(item.token, item.logprob), *item.alternatives][:top]
    return {
        "token": item.token,
        "logprob": item.logprob,
        "bytes": list(item.token.encode()),
        "top_logprobs": [
            {"token": token, "logprob": logprob, "bytes": list(token.encode())}
            for token, logprob in ranked
        ],
    }


def chat_message_choice(
    index: int,
    content: str,
    finish_reason: str,
    stop_reason: str | None,
    logprobs: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "index": index,
        "message": {
            "role": "assistant",
            "content": content,
            "refusal": None,
            "annotations": None,
            "audio": None,
            "function_call": None,
            "reasoning": None,
        },
        "logprobs": logprobs,
        "finish_reason": finish_reason,
        "stop_reason": stop_reason,
        "token_ids": None,
        "routed_experts": None,
    }


def chat_completion(
    request_id: str,
    created: int,
    model: str,
    choices: list[dict[str, Any]],
    fingerprint: str,
    usage_body: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": request_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": choices,
        "service_tier": None,
        "system_fingerprint": fingerprint,
        "usage": usage_body,
        "prompt_logprobs": None,
        "prompt_token_ids": None,
        "prompt_text": None,
        "kv_transfer_params": None,
        "ec_transfer_params": None,
        "metrics": None,
    }


def chat_role_chunk(
    request_id: str, created: int, model: str, index: int, usage_body: dict[str, Any] | None
) -> dict[str, Any]:
    chunk: dict[str, Any] = {
        "id": request_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": index,
                "delta": {"role": "assistant", "content": ""},
                "logprobs": None,
                "finish_reason": None,
            }
        ],
    }
    if usage_body is not None:
        chunk["usage"] = usage_body
    chunk["prompt_token_ids"] = None
    chunk["prompt_text"] = None
    return chunk


def chat_content_chunk(
    request_id: str,
    created: int,
    model: str,
    index: int,
    content: str,
    logprobs: dict[str, Any] | None,
    finish: tuple[str, str | None] | None,
    usage_body: dict[str, Any] | None,
    fingerprint: str | None,
) -> dict[str, Any]:
    """A token chunk; `finish` is (finish_reason, stop_reason) on a choice's last token, and
    `fingerprint` is set on the last chunk of a stream that has no usage chunk."""
    choice: dict[str, Any] = {
        "index": index,
        "delta": {"content": content},
        "logprobs": logprobs,
        "finish_reason": None,
    }
    if finish is not None:
        choice["finish_reason"] = finish[0]
        choice["stop_reason"] = finish[1]
    choice["token_ids"] = None
    chunk: dict[str, Any] = {
        "id": request_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [choice],
    }
    if usage_body is not None:
        chunk["usage"] = usage_body
    if fingerprint is not None:
        chunk["system_fingerprint"] = fingerprint
    return chunk


def usage_chunk(
    request_id: str,
    obj: str,
    created: int,
    model: str,
    prompt: int,
    completion: int,
    fingerprint: str,
) -> dict[str, Any]:
    return {
        "id": request_id,
        "object": obj,
        "created": created,
        "model": model,
        "choices": [],
        "usage": stream_usage(prompt, completion),
        "system_fingerprint": fingerprint,
    }


def completion_logprobs(
    items: Sequence[TokenLogprob], top: int, start_offset: int
) -> dict[str, Any]:
    """The completions `logprobs` object for consecutive tokens starting at `start_offset`."""
    offsets: list[int] = []
    offset = start_offset
    for item in items:
        offsets.append(offset)
        offset += len(item.token)
    return {
        "text_offset": offsets,
        "token_logprobs": [item.logprob for item in items],
        "tokens": [item.token for item in items],
        "top_logprobs": [
            dict([(item.token, item.logprob), *item.alternatives][: max(1, top)]) for item in items
        ],
    }


def completion_choice(
    index: int,
    text: str,
    logprobs: dict[str, Any] | None,
    finish_reason: str,
    stop_reason: str | None,
) -> dict[str, Any]:
    return {
        "index": index,
        "text": text,
        "logprobs": logprobs,
        "finish_reason": finish_reason,
        "stop_reason": stop_reason,
        "token_ids": None,
        "prompt_logprobs": None,
        "prompt_token_ids": None,
        "routed_experts": None,
    }


def completion(
    request_id: str,
    created: int,
    model: str,
    choices: list[dict[str, Any]],
    fingerprint: str,
    usage_body: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": request_id,
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": choices,
        "service_tier": None,
        "system_fingerprint": fingerprint,
        "usage": usage_body,
        "kv_transfer_params": None,
        "ec_transfer_params": None,
        "metrics": None,
    }


def completion_chunk(
    request_id: str,
    created: int,
    model: str,
    index: int,
    text: str,
    logprobs: dict[str, Any] | None,
    finish: tuple[str, str | None] | None,
    usage_body: dict[str, Any] | None,
    fingerprint: str | None,
) -> dict[str, Any]:
    chunk: dict[str, Any] = {
        "id": request_id,
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": index,
                "text": text,
                "logprobs": logprobs,
                "finish_reason": None if finish is None else finish[0],
                "stop_reason": None if finish is None else finish[1],
                "prompt_token_ids": None,
                "token_ids": None,
            }
        ],
    }
    if usage_body is not None:
        chunk["usage"] = usage_body
    if fingerprint is not None:
        chunk["system_fingerprint"] = fingerprint
    return chunk


def embedding_list(
    request_id: str, created: int, model: str, data: list[Any], prompt_tokens: int
) -> dict[str, Any]:
    return {
        "id": request_id,
        "object": "list",
        "created": created,
        "model": model,
        "data": [
            {"index": index, "object": "embedding", "embedding": vector}
            for index, vector in enumerate(data)
        ],
        "usage": usage(prompt_tokens, 0),
    }


def model_list(models: Sequence[ServedModel], created: int) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {
                "id": served.name,
                "object": "model",
                "created": created,
                "owned_by": "vllm",
                "root": served.root or f"/models/{served.name}",
                "parent": None,
                "max_model_len": served.max_model_len,
                "permission": [
                    {
                        "id": new_id("modelperm"),
                        "object": "model_permission",
                        "created": created,
                        "allow_create_engine": False,
                        "allow_sampling": True,
                        "allow_logprobs": True,
                        "allow_search_indices": False,
                        "allow_view": True,
                        "allow_fine_tuning": False,
                        "organization": "*",
                        "group": None,
                        "is_blocking": False,
                    }
                ],
            }
            for served in models
        ],
    }
