"""API key format: a recognisable prefix and 256 bits of randomness, stored as a SHA-256 hash.

A fast unsalted hash is enough here because the secret is random and long: unlike a password it
cannot be guessed from a dictionary, and a fast hash keeps authentication off the latency budget.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

KEY_PREFIX = "hyg_sk_"
_DISPLAY_CHARS = 6


@dataclass(frozen=True, slots=True)
class NewKey:
    """A freshly generated key. ``secret`` is shown once to its owner and never stored."""

    key_id: str
    secret: str
    key_hash: str
    display_prefix: str


def hash_key(secret: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def generate_key() -> NewKey:
    """A new random key (32 random bytes, URL-safe base64)."""
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    return NewKey(
        key_id="key_" + secrets.token_hex(8),
        secret=secret,
        key_hash=hash_key(secret),
        display_prefix=secret[: len(KEY_PREFIX) + _DISPLAY_CHARS],
    )
