"""Case-insensitive word alternations that Python's regex engine can skip through quickly.

``(?i:rue|avenue|...)`` makes the engine try every word at every position it is reached at:
case-insensitive literals defeat its one-character pre-check of each alternative. Spelling
each letter as a class (``[rR][uU][eE]``) and grouping the words by their first letter lets
that pre-check reject all but one group at once. The classes hold exactly the characters that
``re.IGNORECASE`` would accept, including its extra folds of i, k and s.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Characters beyond str.lower()/str.upper() that re.IGNORECASE matches for these letters.
_EXTRA_FOLDS = {"i": "\u0130\u0131", "k": "\u212a", "s": "\u017f"}


def _letter(char: str) -> str:
    lower, upper = char.lower(), char.upper()
    if lower == upper or len(lower) != 1 or len(upper) != 1:
        return re.escape(char)
    return f"[{lower}{upper}{_EXTRA_FOLDS.get(lower, '')}]"


def caseless_word(word: str) -> str:
    """A regex matching ``word`` whatever its case, as ``(?i:word)`` would."""
    return "".join(map(_letter, word))


def caseless_alternation(words: Iterable[str]) -> str:
    """A regex (a non-capturing group) matching any of ``words`` whatever their case.

    Words sharing a first letter keep their relative order, so the leftmost-first choice of
    the engine is the same as with ``(?i:w1|w2|...)`` in the given order.
    """
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault(word[:1].lower(), []).append(word)
    branches = []
    for members in groups.values():
        tails = "|".join(caseless_word(word[1:]) for word in members)
        branches.append(f"{_letter(members[0][0])}(?:{tails})")
    return "(?:" + "|".join(branches) + ")"


def first_letter_guard(letters: str) -> str:
    """A lookahead admitting only positions at one of ``letters``, in any case.

    Put in front of a case-insensitive pattern whose every match starts with one of them, it
    rejects all other positions with one cheap test instead of a try of each alternative.
    """
    folded = "".join(sorted({char for letter in letters for char in _letter(letter).strip("[]")}))
    return f"(?=[{folded}])"
