"""Every keyword the finders are led by, found in one pass over the lower-cased text.

Finders that run a regex only where a keyword occurs used to look each keyword up with its own
``str.find`` pass: some fifty passes per text. An Aho-Corasick automaton (compiled code) finds
all of them in one pass, so each finder gets its keywords' offsets for the cost of a lookup.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from ahocorasick_rs import AhoCorasick, Implementation

Hits = dict[str, list[tuple[int, int]]]
"""Per group, the ``(start, end)`` offsets of its keywords' occurrences, in order."""

# From this many hits on, the groups' lists are made up front (see KeywordIndex._many).
_MANY_HITS = 128


class KeywordIndex:
    """An immutable automaton over named groups of lower-case keywords."""

    def __init__(self, groups: Mapping[str, Iterable[str]]) -> None:
        members = {name: frozenset(words) for name, words in groups.items()}
        self._words = sorted(set().union(*members.values()))
        # A keyword may lead finders of several groups ("naissance": cities and birth dates).
        self._groups_of = [
            tuple(name for name, words in members.items() if word in words) for word in self._words
        ]
        self._names = tuple(members)
        # Most keywords lead one group: their hits skip the inner loop.
        self._single = [groups[0] if len(groups) == 1 else None for groups in self._groups_of]
        # The same by group number, for long texts (see find).
        number = {name: at for at, name in enumerate(self._names)}
        self._single_number = [-1 if name is None else number[name] for name in self._single]
        self._numbers_of = [tuple(number[name] for name in groups) for groups in self._groups_of]
        # A DFA costs more memory and build time than the default NFA, once per detector, and
        # scans a quarter faster with the thousands of keywords the finders now hand in.
        self._automaton = AhoCorasick(self._words, implementation=Implementation.DFA)

    def find(self, lowered: str) -> Hits | None:
        """Occurrences of every group's keywords in ``lowered``, overlapping ones included;
        None for a text the automaton cannot read (lone surrogates), which callers search
        keyword by keyword instead."""
        try:
            found = self._automaton.find_matches_as_indexes(lowered, overlapping=True)
        except UnicodeEncodeError:
            return None
        hits = self._few(found) if len(found) < _MANY_HITS else self._many(found)
        for occurrences in hits.values():
            if len(occurrences) > 1:
                occurrences.sort()
        return hits

    def _few(self, found: list[tuple[int, int, int]]) -> Hits:
        # A short text has hits in a few of the groups: only theirs get a list, the others
        # an empty one when a finder asks.
        hits: Hits = defaultdict(list)
        groups_of, single = self._groups_of, self._single
        for index, start, end in found:
            name = single[index]
            if name is not None:
                hits[name].append((start, end))
                continue
            for name in groups_of[index]:
                hits[name].append((start, end))
        return hits

    def _many(self, found: list[tuple[int, int, int]]) -> Hits:
        # Thousands of hits: each is appended through a method bound once per group, with no
        # dictionary lookup.
        lists: list[list[tuple[int, int]]] = [[] for _ in self._names]
        appends = [occurrences.append for occurrences in lists]
        single, numbers_of = self._single_number, self._numbers_of
        for index, start, end in found:
            number = single[index]
            if number >= 0:
                appends[number]((start, end))
                continue
            for number in numbers_of[index]:
                appends[number]((start, end))
        return dict(zip(self._names, lists, strict=True))


def starts(occurrences: list[tuple[int, int]]) -> list[int]:
    """The distinct start offsets of sorted ``occurrences``, in order."""
    # Most groups have no hit in a short prompt: no set or sort for them.
    if len(occurrences) < 2:
        return [occurrences[0][0]] if occurrences else []
    return sorted({start for start, _ in occurrences})
