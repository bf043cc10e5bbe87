"""Token counts estimated by the gateway when the model server reported none.

Used only when usage is missing (stream cut, client gone, upstream error after generation
started), so that such a request is never recorded as free. The record is flagged
``tokens_estimated``. The estimate errs on the high side: about one token per four characters of
text (the usual figure for Latin-script text with BPE tokenizers) plus a few tokens of chat
template per message.
"""

from __future__ import annotations

from typing import Any

_CHARS_PER_TOKEN = 4
_TEMPLATE_TOKENS_PER_MESSAGE = 4


def _text_chars(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list):
        return sum(_text_chars(item) for item in value)
    if isinstance(value, dict):
        return sum(_text_chars(v) for k, v in value.items() if k not in ("role", "type"))
    return 0


def _tokens_for(chars: int) -> int:
    return -(-chars // _CHARS_PER_TOKEN)


def estimate_prompt_tokens(endpoint: str, body: dict[str, Any]) -> int:
    """Estimated prompt tokens of a request body (chat, completions or embeddings)."""
    if endpoint == "chat":
        messages = body.get("messages")
        if not isinstance(messages, list):
            return 0
        return _tokens_for(_text_chars(messages)) + _TEMPLATE_TOKENS_PER_MESSAGE * len(messages)
    field = "prompt" if endpoint == "completions" else "input"
    return sum(
        len(p) if _is_token_ids(p) else _tokens_for(_text_chars(p))
        for p in _prompts(body.get(field))
    )


def estimate_completion_tokens(endpoint: str, chunks_with_choices: int) -> int:
    """Estimated generated tokens from the number of streamed chunks that carried choices.

    vLLM sends one chunk per generated token; a chat stream adds one role-only chunk first.
    """
    if endpoint == "chat":
        return max(0, chunks_with_choices - 1)
    return chunks_with_choices


_TEMPLATE_TOKENS_CEILING = 16  # generous room for any chat template's special tokens


def _text_bytes(value: Any) -> int:
    if isinstance(value, str):
        # Most prompts are ASCII: their length is their size, without copying them.
        return len(value) if value.isascii() else len(value.encode("utf-8"))
    if isinstance(value, list):
        return sum(_text_bytes(item) for item in value)
    if isinstance(value, dict):
        return sum(_text_bytes(v) for k, v in value.items() if k not in ("role", "type"))
    return 0


def max_prompt_tokens(endpoint: str, body: dict[str, Any]) -> int:
    """An upper bound of the prompt tokens of a request, for quota reservations.

    A byte-level BPE tokenizer never produces more tokens than the text has UTF-8 bytes, plus the
    special tokens of the chat template; reserving this bound means an answer that respects
    ``max_tokens`` can never cost more than it held.
    """
    if endpoint == "chat":
        messages = body.get("messages")
        count = len(messages) if isinstance(messages, list) else 0
        tools = _text_bytes(body.get("tools"))
        return _text_bytes(messages) + tools + _TEMPLATE_TOKENS_CEILING * (count + 1)
    field = "prompt" if endpoint == "completions" else "input"
    # Each text prompt gets its own special tokens; token ids are sent to the model as they are.
    return sum(
        len(p) if _is_token_ids(p) else _text_bytes(p) + _TEMPLATE_TOKENS_CEILING
        for p in _prompts(body.get(field))
    )


def prompt_count(value: Any) -> int:
    """The number of prompts in a completions ``prompt`` or embeddings ``input``.

    One text or one list of token ids is one prompt; a list of texts or of token-id lists holds
    one per item.
    """
    return len(_prompts(value))


def _is_token_ids(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, int) for v in value)


def _prompts(value: Any) -> list[Any]:
    if isinstance(value, list) and value and not _is_token_ids(value):
        return value
    return [] if value is None else [value]
