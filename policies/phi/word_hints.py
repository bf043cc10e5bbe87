"""Whether a stretch of lower-cased text holds one of a set of words.

The institutional and document rules look for some sixty words before each span. A regex
alternation of them costs about a microsecond per character it is tried at. Instead the words
join the detector's keyword index (one automaton pass over the text for every finder), and a
span's window is answered by a binary search among their occurrences plus a boundary test.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from ahocorasick_rs import AhoCorasick

# What may stand before a word: each keyword is indexed after each of these, since most words
# hold some keyword ("ars" in "mars") and a hit per such word would cost more than the search.
# Only the characters that open words in practice (blanks, table cells, "l'", "(", "/", "-"):
# each lead multiplies the automaton's patterns, and ",", ".", ":" glued to the next word
# changed no span of the corpora.
_LEADS = (" ", "\n", "\t", "(", "'", "/", "-", ";")


_LEAD_SET = frozenset(_LEADS)
# Words this long seldom occur inside another word: each is indexed once and its hits are
# checked for a lead in Python, instead of being indexed once after each lead (the automaton
# stays a fraction of the size, and a large automaton is slow once other work evicted it).
_BARE_FROM = 5


def _patterns(words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(
        pattern
        for word in words
        for pattern in ((word,) if len(word) >= _BARE_FROM else [lead + word for lead in _LEADS])
    )


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


class WordHints:
    """Words (matched whole) and prefixes (matched at the start of a word); immutable."""

    def __init__(self, name: str, words: Iterable[str] = (), prefixes: Iterable[str] = ()) -> None:
        self.words = tuple(words)
        self.prefixes = tuple(prefixes)
        self._word_group, self._prefix_group = f"{name}:word", f"{name}:prefix"
        # A bare word's hit starts at the word, a led word's at its lead: no word opens with a
        # lead, so the first character of a hit tells which it is.
        assert not any(word[:1] in _LEAD_SET for word in self.words + self.prefixes)
        self._keywords = {
            self._word_group: _patterns(self.words),
            self._prefix_group: _patterns(self.prefixes),
        }
        patterns = [*self._keywords[self._word_group], *self._keywords[self._prefix_group]]
        whole = len(self._keywords[self._word_group])
        self._whole = [True] * whole + [False] * (len(patterns) - whole)
        self._automaton = AhoCorasick(patterns)
        self.openings = self.words + self.prefixes
        """Every word and prefix, for a ``str.startswith`` test."""

    def _opens(self, lowered: str, hi: int) -> bool:
        """True when ``lowered[:hi]`` opens with a word or a prefix."""
        if any(lowered.startswith(prefix, 0, hi) for prefix in self.prefixes):
            return True
        return any(
            lowered.startswith(word, 0, hi) and _bounded(lowered, len(word), True, hi)
            for word in self.words
        )

    def keyword_groups(self) -> dict[str, tuple[str, ...]]:
        """The groups to add to a keyword index whose hits :meth:`found_between` reads."""
        return dict(self._keywords)

    def found_in(self, lowered: str) -> bool:
        """True when ``lowered`` holds one of the words, or a word opening with a prefix."""
        padded = " " + lowered
        try:
            hits = self._automaton.find_matches_as_indexes(padded, overlapping=True)
        except UnicodeEncodeError:
            return False
        return any(
            _bounded(padded, end, self._whole[index]) and _led(padded, start)
            for index, start, end in hits
        )

    def found_between(
        self, lowered: str, hits: Mapping[str, list[tuple[int, int]]], lo: int, hi: int
    ) -> bool:
        """:meth:`found_in` of ``lowered[lo:hi]``, answered from the keyword index's ``hits``
        in the whole lower-cased text."""
        return self.found_indexed(lowered, self.indexed(hits), lo, hi)

    def indexed(self, hits: Mapping[str, list[tuple[int, int]]]) -> HintIndex:
        """This object's groups among the keyword index's ``hits``, for
        :meth:`found_indexed`: built once per text, with only the start offsets copied."""
        words, prefixes = hits[self._word_group], hits[self._prefix_group]
        return HintIndex(
            [start for start, _ in words], words, [start for start, _ in prefixes], prefixes
        )

    def found_indexed(self, lowered: str, index: HintIndex, lo: int, hi: int) -> bool:
        """:meth:`found_between`, from :meth:`indexed` hits.

        Each window reads only the few hits inside it (one binary search per group): a long
        record holds thousands of hits, most of them far from any span's window, so none is
        checked ahead of time.
        """
        # A word opening the text has no character before it, so no indexed keyword: one
        # C-level startswith for all of them, a loop only when one matches.
        if lo <= 0 and lowered.startswith(self.openings, 0, hi) and self._opens(lowered, hi):
            return True
        word_starts, words, prefix_starts, prefixes = index
        return bool(
            word_starts and _found_within(lowered, word_starts, words, lo, hi, True)
        ) or bool(prefix_starts and _found_within(lowered, prefix_starts, prefixes, lo, hi, False))


class HintIndex(NamedTuple):
    """The hits of one :class:`WordHints` in a text: each group's start offsets (sorted, for
    a binary search over plain integers) beside its ``(start, end)`` hits."""

    word_starts: list[int]
    words: list[tuple[int, int]]
    prefix_starts: list[int]
    prefixes: list[tuple[int, int]]


def _found_within(
    lowered: str,
    starts: list[int],
    occurrences: list[tuple[int, int]],
    lo: int,
    hi: int,
    whole: bool,
) -> bool:
    """True when one of the sorted ``occurrences`` of a group (``starts``: their starts), led
    as a word must be, has its lead in ``[lo - 1, hi)`` and ends by ``hi`` (a word of
    ``whole`` ending a word)."""
    # A hit starts at its lead or just after it; a lead at lo - 1 or later starts at lo - 1
    # or later, and one before hi ends at most at hi only if it starts before hi.
    at = bisect_left(starts, lo - 1)
    count = len(starts)
    while at < count:
        start = starts[at]
        if start >= hi:
            return False
        end = occurrences[at][1]
        at += 1
        if end > hi:
            continue
        lead = _lead_of(lowered, start)
        if lead >= max(lo - 1, 0) and (not whole or _bounded(lowered, end, True, hi)):
            return True
    return False


def _led(text: str, start: int) -> bool:
    """True when the hit at ``start`` begins with its lead or follows one."""
    return text[start] in _LEAD_SET or (start > 0 and text[start - 1] in _LEAD_SET)


def _lead_of(lowered: str, start: int) -> int:
    """Where the lead of the hit at ``start`` stands; -1 for a bare word inside another."""
    if lowered[start] in _LEAD_SET:
        return start
    return start - 1 if start > 0 and lowered[start - 1] in _LEAD_SET else -1


def _bounded(text: str, end: int, whole: bool, hi: int | None = None) -> bool:
    """False when ``whole`` asks the keyword ending at ``end`` to end a word and it does not
    (``hi``: where the text is taken to end)."""
    hi = len(text) if hi is None else hi
    return not (whole and end < hi and _is_word_char(text[end]) and _is_word_char(text[end - 1]))
