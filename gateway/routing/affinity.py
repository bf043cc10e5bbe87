"""Conversation affinity: the same conversation prefix goes to the same replica, so vLLM's
prefix cache (the KV blocks of the system prompt and earlier turns) is reused.

The key hashes what stays constant across the turns of one conversation: the user, the model,
the system prompt and the first user message. Replicas are ranked for a key by rendezvous
(highest-random-weight) hashing: adding or removing a replica moves only the keys that were on
it, and when the preferred replica is excluded the next choice is stable too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from gateway.routing.replicas import Replica

# Completions prompts have no turns; their first characters stand for the shared prefix.
_PROMPT_PREFIX_CHARS = 2000


def affinity_key(endpoint: str, body: Mapping[str, Any], user_id: str | None) -> str | None:
    """A stable key for the conversation ``body`` belongs to, or None when affinity is useless.

    Chat: user + model + leading system/developer messages + first user message. Completions:
    user + model + the prompt's first characters. Embeddings and bodies without such content: None.
    """
    parts: list[bytes] = [endpoint.encode(), (user_id or "").encode(), _text(body.get("model"))]
    if endpoint == "chat":
        messages = body.get("messages")
        if not isinstance(messages, list):
            return None
        first_user: bytes | None = None
        for message in messages:
            if not isinstance(message, dict):
                return None
            role = message.get("role")
            if role in ("system", "developer") and first_user is None:
                parts.append(_text(message.get("content")))
            elif role == "user":
                first_user = _text(message.get("content"))
                break
        if first_user is None:
            return None
        parts.append(first_user)
    elif endpoint == "completions":
        prompt = body.get("prompt")
        if isinstance(prompt, list) and prompt:
            prompt = prompt[0]
        if isinstance(prompt, str):
            parts.append(prompt[:_PROMPT_PREFIX_CHARS].encode())
        elif prompt is not None:
            parts.append(_text(prompt))
        else:
            return None
    else:
        return None
    return hashlib.blake2b(b"\x1f".join(parts), digest_size=16).hexdigest()


def preferred_replica(pool: Sequence[Replica], key: str) -> Replica:
    """The replica of ``pool`` (not empty) that ``key`` maps to by rendezvous hashing."""
    return max(pool, key=lambda replica: _weight(key, replica.label))


def _weight(key: str, label: str) -> int:
    digest = hashlib.blake2b(f"{key}\x1f{label}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _text(content: object) -> bytes:
    if isinstance(content, str):
        return content.encode()
    try:
        return orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return b""
