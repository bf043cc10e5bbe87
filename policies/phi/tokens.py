"""The capitalised and upper-case words of a text, the tokens that person names are made of."""

from __future__ import annotations

import re
from itertools import accumulate
from typing import NamedTuple

_LETTERS = "A-Za-zÀ-ÖØ-öø-ÿ"
# Capitalised or upper-case words; possessive, so that a word glued to digits ("DZQM006",
# "B12") is a code and not a shorter word.
_TOKEN = re.compile(
    rf"[A-ZÀ-ÖØ-Þ](?<![\w\-'\u2019].)[{_LETTERS}'\u2019]*+(?:-[{_LETTERS}][{_LETTERS}'\u2019]*+)*+(?![\d]|-\d)"
)


class Tokens(NamedTuple):
    """The tokens of a text as parallel lists: token ``i`` is ``text[starts[i]:ends[i]]``,
    which is ``words[i]``, and ``lowers[i]`` is ``words[i].lower()``."""

    starts: list[int]
    ends: list[int]
    words: list[str]
    lowers: list[str]


# The same tokens as the one group of a split pattern: ``split`` gives the text between
# tokens and the tokens in turn, with no match object per token.
_TOKEN_SPLIT = re.compile(f"({_TOKEN.pattern})")


def tokenise(text: str) -> Tokens:
    """Every token of ``text``, in order.

    A long prompt holds hundreds of capitalised words: parallel lists filled at C level cost a
    fraction of one Python object per token.
    """
    # [gap, token, gap, token, ..., gap]: the running lengths are each token's start and end.
    pieces = _TOKEN_SPLIT.split(text)
    words = pieces[1::2]
    bounds = list(accumulate(map(len, pieces)))
    # One lower() over the joined words instead of one call per word: words hold no newline,
    # and lowering never creates one, so the split gives back one entry per word.
    lowers = "\n".join(words).lower().split("\n") if words else []
    return Tokens(bounds[0:-1:2], bounds[1::2], words, lowers)
