"""The ``usage`` of a complete answer, read without parsing a large body whole.

An answer up to :data:`FULL_PARSE_BYTES` is parsed (exact, and fast at that size). A larger one
(a batch of embeddings runs to tens of megabytes) is searched from its end: vLLM and OpenAI
write ``usage`` after the ``data``/``choices`` array, so the object is found within the last
few kilobytes and only it is parsed. A ``"usage"`` whose opening quote is escaped lies inside a
string (generated text) and is skipped.
"""

from __future__ import annotations

import json
import re

import orjson

from billing.usage import Usage

FULL_PARSE_BYTES = 1024 * 1024
_TAIL_BYTES = 64 * 1024
_KEY = re.compile(rb'"usage"\s*:\s*')
_DECODER = json.JSONDecoder()


def usage_of(body: bytes) -> Usage | None:
    """The answer's usage, or None when it has none (or is not JSON)."""
    if len(body) <= FULL_PARSE_BYTES:
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        return Usage.from_openai(parsed.get("usage")) if isinstance(parsed, dict) else None
    tail_start = len(body) - _TAIL_BYTES
    for match in reversed(list(_KEY.finditer(body, tail_start))):
        if _escaped(body, match.start()):
            continue
        try:
            value, _ = _DECODER.raw_decode(body[match.end() :].decode("utf-8", "replace"))
        except json.JSONDecodeError:
            continue
        usage = Usage.from_openai(value)
        if usage is not None:
            return usage
    return None


def _escaped(body: bytes, quote: int) -> bool:
    """True when the quote at ``quote`` is preceded by an odd number of backslashes."""
    start = quote
    while start > 0 and body[start - 1] == 0x5C:
        start -= 1
    return (quote - start) % 2 == 1
