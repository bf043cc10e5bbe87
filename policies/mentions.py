"""Every other mention of an identifier the detector found once, in whatever form it takes.

The detector needs context: "Mme Jeanne DUPONT" is a name, "dupont" alone further down is not,
and "IPP 12345678" is an IPP while "12 34 56 78" in a tool result is just digits. Once a value
is known to be an identifier, pseudonymisation must replace *every* mention of it, so each value
gives search forms that ignore case, spacing and typography:

- numbers (NIR, IPP, NDA, phone, RPPS, IBAN, dates): the same digits in the same order, with any
  separators between them (spaces of any kind, dots, dashes, slashes, invisible characters),
  fullwidth or not, with or without the keyword; a NIR also without its two-digit key, a French
  phone number also in its +33 form;
- names: each word of three letters or more (titles left out), as a whole word, in any case;
- anything else (e-mail, address…): the whole value in any case and spacing.

Searches run on the normalised view of each text (see :mod:`policies.phi.normalise`), so the
spans found are spans of the text as written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from policies.phi.normalise import normalise
from policies.spans import Span

NUMERIC_TYPES = frozenset({"NIR", "IPP", "NDA", "PHONE", "RPPS", "IBAN", "BIRTHDATE", "DATE"})
# Fewer digits would match doses and counts all over a clinical text.
_MIN_DIGITS = 5
_MIN_WORD = 3
_TITLES = frozenset(
    {"mme", "madame", "mlle", "mademoiselle", "monsieur", "mr", "mrs", "ms", "dr", "docteur",
     "pr", "professeur", "epouse", "épouse", "veuve", "nee", "née", "patient", "patiente"}
)  # fmt: skip
_SEPARATORS = r"[^0-9A-Za-z]{0,3}"  # between two digits of one number
_WORD = re.compile(r"[^\W\d_]+")


def canonical(entity_type: str, value: str) -> str:
    """The form two mentions of one value share: digits for numbers, case-folded words
    otherwise. The same canonical form gets the same placeholder."""
    text = normalise(value).text
    if entity_type in NUMERIC_TYPES:
        digits = "".join(char for char in text if char.isdigit())
        if len(digits) >= _MIN_DIGITS:
            return digits
    return " ".join(text.split()).casefold()


class Mentions:
    """Finds every mention of a set of detected values; immutable once built."""

    __slots__ = ("_patterns",)

    def __init__(self, values: Iterable[tuple[str, str]]) -> None:
        """``values``: (entity type, value as found in the request) pairs."""
        forms: dict[str, str] = {}  # pattern -> entity type
        for entity_type, value in values:
            for pattern in _patterns(entity_type, value):
                forms.setdefault(pattern, entity_type)
        # Longest first, so that a whole value wins over one of its words at the same place.
        self._patterns = tuple(
            (re.compile(pattern, re.IGNORECASE), entity_type)
            for pattern, entity_type in sorted(forms.items(), key=lambda item: -len(item[0]))
        )

    def __bool__(self) -> bool:
        return bool(self._patterns)

    def find(self, text: str) -> list[Span]:
        """Spans of ``text`` (possibly overlapping) holding a mention of a known value."""
        if not self._patterns or not text:
            return []
        view = normalise(text)
        found = [
            Span(match.start(), match.end(), entity_type)
            for pattern, entity_type in self._patterns
            for match in pattern.finditer(view.text)
            if match.end() > match.start()
        ]
        return view.original_spans(found) if found else found

    def __repr__(self) -> str:
        return f"Mentions({len(self._patterns)} forms, values redacted)"


def _patterns(entity_type: str, value: str) -> list[str]:
    text = normalise(value).text
    if entity_type in NUMERIC_TYPES:
        digits = "".join(char for char in text if char.isdigit())
        if len(digits) >= _MIN_DIGITS:
            variants = {digits}
            if entity_type == "NIR" and len(digits) == 15:
                variants.add(digits[:13])  # without its key
            if entity_type == "PHONE" and digits.startswith("0") and len(digits) == 10:
                variants.add("33" + digits[1:])  # +33 6 12…
                variants.add(digits[1:])
            return [rf"(?<!\d){_SEPARATORS.join(v)}(?!\d)" for v in variants]
    words = [w for w in _WORD.findall(text) if len(w) >= _MIN_WORD and w.casefold() not in _TITLES]
    forms = [text.split()] + ([[word] for word in words] if entity_type == "PERSON" else [])
    patterns = []
    for form in forms:
        if not form:
            continue
        patterns.append(r"(?<![^\W_])" + r"[\s_.-]+".join(map(re.escape, form)) + r"(?![^\W_])")
        # Inside JSON text (tool-call arguments) "Hervé" may be written "Herv\u00e9".
        escaped = [json.dumps(word)[1:-1] for word in form]
        if escaped != form:
            patterns.append(r"[\s_.-]+".join(map(re.escape, escaped)))
    return patterns
