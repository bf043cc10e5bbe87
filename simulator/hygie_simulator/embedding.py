"""Deterministic unit vectors standing in for an embedding model.

A vector is a bag of hashed words plus a small whole-text component, so texts sharing words are
closer (cosine) than unrelated ones, and identical texts give identical vectors.
"""

from __future__ import annotations

import base64
import hashlib
import math
import operator
import re
import sys
from array import array

_WORD = re.compile(r"\w+")
_MAX_WORDS = 128


def _hashed_vector(seed: int, key: str, dim: int) -> array[int]:
    digest = hashlib.shake_256(f"{seed}\x00{key}".encode()).digest(dim)
    return array("b", digest)


def embed_text(text: str, dim: int, seed: int) -> list[float]:
    """A unit vector of `dim` float32 values for `text` (float32 so base64 and JSON agree)."""
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(text)))[:_MAX_WORDS]
    # The whole-text part keeps distinct texts distinct; shared words dominate similarity.
    total: list[int] = list(_hashed_vector(seed, "\x01" + text, dim))
    for word in words:
        word_vector = _hashed_vector(seed, word, dim)
        total = list(map(operator.add, total, word_vector))
        total = list(map(operator.add, total, word_vector))
    norm = math.sqrt(sum(v * v for v in total)) or 1.0
    return array("f", [v / norm for v in total]).tolist()


def embed_token_ids(token_ids: list[int], dim: int, seed: int) -> list[float]:
    """A unit vector for a prompt given as token ids."""
    return embed_text(" ".join(f"t{t}" for t in token_ids), dim, seed)


def to_base64(vector: list[float]) -> str:
    """`vector` as little-endian float32 bytes in base64, as vLLM's encoding_format=base64."""
    packed = array("f", vector)
    if sys.byteorder != "little":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode()
