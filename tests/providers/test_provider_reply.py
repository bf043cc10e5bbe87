"""Rebuilding litellm's answers as plain OpenAI documents."""

from __future__ import annotations

from gateway.backends.litellm.reply import chunk_document, generated_text, usage_object


def test_usage_keeps_openai_fields_only_and_cached_tokens_when_reported() -> None:
    litellm_usage = {
        "prompt_tokens": 21,
        "completion_tokens": 3,
        "total_tokens": 24,
        "prompt_tokens_details": {"cached_tokens": 8, "text_tokens": 13, "cache_write_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
        "cache_read_input_tokens": 8,
        "cost": 0.0001,
    }

    assert usage_object(litellm_usage) == {
        "prompt_tokens": 21,
        "completion_tokens": 3,
        "total_tokens": 24,
        "prompt_tokens_details": {"cached_tokens": 8},
    }
    assert usage_object({"prompt_tokens": 5, "completion_tokens": None}) == {
        "prompt_tokens": 5,
        "completion_tokens": 0,
        "total_tokens": 5,
    }


def test_litellm_zero_filled_usage_counts_as_missing() -> None:
    assert usage_object({"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}) is None
    assert usage_object(None) is None


def test_a_stream_chunk_is_rebuilt_with_the_public_model_name() -> None:
    chunk = {
        "id": "chatcmpl-1",
        "created": 1,
        "model": "claude-3-5-haiku-20241022",
        "object": "chat.completion.chunk",
        "provider_specific_fields": {"x": 1},
        "choices": [
            {
                "index": 0,
                "delta": {
                    "content": None,
                    "role": "assistant",
                    "provider_specific_fields": None,
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "toolu_1",
                            "type": "function",
                            "function": {"name": "census", "arguments": '{"w'},
                        }
                    ],
                },
            }
        ],
    }

    assert chunk_document("chat", chunk, "assistant") == {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "assistant",
        "choices": [
            {
                "index": 0,
                "delta": {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "toolu_1",
                            "type": "function",
                            "function": {"name": "census", "arguments": '{"w'},
                        }
                    ],
                },
                "logprobs": None,
                "finish_reason": None,
            }
        ],
    }
    assert generated_text(chunk) == 'census{"w'
    assert chunk_document("chat", {**chunk, "choices": []}, "assistant") is None
