"""Counting tokens for a provider answer that came without usage figures.

litellm's counter picks the model's tokenizer where it knows one (bundled files, no download in
offline mode) and falls back to a generic BPE; if it cannot read the input at all, the billing
estimate (about four characters a token) is used so that a request is never recorded as free.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from billing.pricing.token_estimate import estimate_prompt_tokens

# What litellm.token_counter may raise on content it cannot read (images, odd structures).
_UNREADABLE = (ValueError, TypeError, KeyError, AttributeError)


class ProviderTokenCounter:
    """Prompt and completion token counts for one litellm model name."""

    def __init__(self, count: Callable[..., int]) -> None:
        self._count = count

    def prompt_tokens(self, model: str, endpoint: str, body: dict[str, Any]) -> int:
        """Tokens of the request's prompt (messages, prompt or embedding input)."""
        try:
            if endpoint == "chat":
                return int(self._count(model=model, messages=body.get("messages") or []))
            value = body.get("prompt" if endpoint == "completions" else "input")
            if isinstance(value, str) or (
                isinstance(value, list) and all(isinstance(item, str) for item in value)
            ):
                return int(self._count(model=model, text=value))
        except _UNREADABLE:
            pass
        return estimate_prompt_tokens(endpoint, body)

    def completion_tokens(self, model: str, text: str) -> int:
        """Tokens of the generated ``text``."""
        if not text:
            return 0
        try:
            return int(self._count(model=model, text=text, count_response_tokens=True))
        except _UNREADABLE:
            return -(-len(text) // 4)
