"""Word lists the detector looks tokens up in, read once from ``policies/phi/data``.

Every set holds lower-case forms, plus an accent-free copy of each, so that a token is looked up
with a single ``token.lower() in ...`` whether it is written "HÉLÈNE", "Hélène" or "HELENE".
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


def strip_accents(word: str) -> str:
    """``word`` without combining marks ("Hélène" -> "Helene")."""
    decomposed = unicodedata.normalize("NFD", word)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _entries(name: str, *, one_per_line: bool) -> frozenset[str]:
    text = (
        resources.files("policies.phi").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    )
    words: set[str] = set()
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        items = [line] if one_per_line else line.split()
        for item in items:
            lowered = unicodedata.normalize("NFC", item).lower()
            words.add(lowered)
            words.add(strip_accents(lowered))
    return frozenset(words)


@dataclass(frozen=True, slots=True)
class Lexicons:
    """Immutable word sets; build with :func:`load_lexicons` (cached) or directly in tests."""

    first_names: frozenset[str]
    surnames: frozenset[str]
    cities: frozenset[str]
    eponyms: frozenset[str]
    common_words: frozenset[str]
    acronyms: frozenset[str]
    ambiguous_first_names: frozenset[str]


@lru_cache(maxsize=1)
def load_lexicons() -> Lexicons:
    """The packaged lexicons, read from disk on first call only."""
    return Lexicons(
        first_names=_entries("first_names.txt", one_per_line=True)
        | _entries("first_names_fr.txt", one_per_line=True),
        surnames=_entries("surnames.txt", one_per_line=True),
        cities=_entries("cities.txt", one_per_line=True),
        eponyms=_entries("eponyms.txt", one_per_line=True),
        common_words=_entries("common_words.txt", one_per_line=False),
        acronyms=_entries("acronyms.txt", one_per_line=False),
        ambiguous_first_names=_entries("ambiguous_first_names.txt", one_per_line=False),
    )
