"""A lower-cased copy of a text whose offsets match the original, for fast case-blind scans.

Python's case-insensitive regexes cannot use the literal-prefix search that makes case-sensitive
ones fast, so keywords are searched in ``text.lower()`` instead. That is only sound when lowering
kept every character at its offset, which fails for a handful of code points ("İ" lowers to two).
"""

from __future__ import annotations


def aligned_lower(text: str) -> str | None:
    """``text.lower()`` when it has the same length as ``text`` (offsets line up), else None."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else None
