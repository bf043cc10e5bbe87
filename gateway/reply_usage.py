"""The ``usage`` object of a non-streamed OpenAI-style reply, read without parsing the reply.

An embeddings reply for two thousand inputs is some 40 MB of JSON numbers; parsing it whole to
read three counts makes millions of Python floats (several times the reply's size in memory).
vLLM and OpenAI write ``usage`` last, so the object after the last ``"usage"`` key is parsed
alone; any other layout falls back to parsing the whole reply.
"""

from __future__ import annotations

import orjson

_KEY = b'"usage"'


def usage_of_reply(body: bytes) -> object:
    """The reply's top-level ``usage`` value, or None when the reply has none or is not JSON."""
    at = body.rfind(_KEY)
    if at == -1:
        return None
    try:
        # '{' + '"usage": {...}}' is a JSON object only when usage is the reply's last field:
        # a "usage" inside a string is escaped, and one nested deeper leaves braces over.
        tail = orjson.loads(b"{" + body[at:])
    except orjson.JSONDecodeError:
        return _usage_of_parsed(body)
    return tail.get("usage") if isinstance(tail, dict) else None


def _usage_of_parsed(body: bytes) -> object:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return parsed.get("usage") if isinstance(parsed, dict) else None
