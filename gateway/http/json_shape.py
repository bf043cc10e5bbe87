"""Two shapes of JSON body the gateway refuses before reading it: too deep, or ambiguous.

- Nesting deeper than :data:`MAX_DEPTH`: no OpenAI request needs it, and every walk over the
  body (classification, pseudonymisation, token estimates) would have to survive it.
- Duplicate keys in one object (``{"messages": [...], "messages": [...]}``): JSON parsers
  disagree on which one wins, so the gateway could classify one and a model server read the
  other. The request is refused (400) rather than guessed at.

Checking duplicates costs little: each key in the raw bytes ends with a quote followed by a
colon, so when the number of ``"<blanks>:`` in the bytes equals the number of keys of the parsed
body, no key was lost to a duplicate. Only when they differ (a colon after a quote inside a
string, as in JSON-in-JSON tool arguments) is the body parsed again, keeping every pair.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gateway.errors import InvalidRequest

MAX_DEPTH = 64
"""The deepest nesting accepted (a chat request is about 6 deep; a tool schema rarely 20)."""

# The end of a key: its closing quote, blanks, the colon. Every key has one; other text may.
_KEY_END = re.compile(rb'"[ \t\r\n]*:')


def check_shape(raw: bytes, body: dict[str, Any]) -> None:
    """Raise :class:`InvalidRequest` when ``body`` (parsed from ``raw``) nests deeper than
    :data:`MAX_DEPTH` or ``raw`` repeats a key inside one object."""
    keys = _count_keys(body)
    if len(_KEY_END.findall(raw)) != keys and _has_duplicate_keys(raw):
        raise InvalidRequest(
            "The request body repeats a key inside one JSON object; send each key once."
        )


def _count_keys(body: dict[str, Any]) -> int:
    """Keys of every object in ``body``; iterative, so that depth cannot exhaust the stack."""
    keys = 0
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InvalidRequest(
                f"The request body nests deeper than {MAX_DEPTH} levels of objects and arrays."
            )
        if type(node) is dict:
            keys += len(node)
            node = node.values()
        for child in node:
            if type(child) is dict or type(child) is list:
                stack.append((child, depth + 1))
    return keys


class _DuplicateKey(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKey
    return result


def _has_duplicate_keys(raw: bytes) -> bool:
    try:
        json.loads(raw, object_pairs_hook=_pairs)
    except _DuplicateKey:
        return True
    except ValueError:
        return False  # orjson read it; a disagreement here is no duplicate key
    return False
