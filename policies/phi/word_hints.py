"""Whether a short stretch of lower-cased text holds one of a set of words.

The institutional and document rules look for some sixty words before each span. A regex
alternation of them costs about a microsecond per character it is tried at; one pass of an
Aho-Corasick automaton (compiled code) over the stretch, then a boundary test per hit, costs a
fraction of that.
"""

from __future__ import annotations

from collections.abc import Iterable

from ahocorasick_rs import AhoCorasick


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


class WordHints:
    """Words (matched whole) and prefixes (matched at the start of a word); immutable."""

    def __init__(self, words: Iterable[str] = (), prefixes: Iterable[str] = ()) -> None:
        entries = [(word, True) for word in words] + [(prefix, False) for prefix in prefixes]
        self._patterns = [pattern for pattern, _ in entries]
        self._whole = [whole for _, whole in entries]
        self._automaton = AhoCorasick(self._patterns)

    def found_in(self, lowered: str) -> bool:
        """True when ``lowered`` holds one of the words, or a word opening with a prefix."""
        try:
            hits = self._automaton.find_matches_as_indexes(lowered, overlapping=True)
        except UnicodeEncodeError:
            return False
        for index, start, end in hits:
            if start and _is_word_char(lowered[start - 1]) and _is_word_char(lowered[start]):
                continue
            whole = self._whole[index] and end < len(lowered)
            if whole and _is_word_char(lowered[end]) and _is_word_char(lowered[end - 1]):
                continue
            return True
        return False
