"""A tiny, deterministic TEST detector for the policy tests (not the PHI detector).

It recognises a fake NIR (13 or 15 digits starting with 1 or 2), names introduced by a civility
("Mme Dupont", "M. Martin"), ``IPP 1234567`` and e-mail addresses — enough to drive
classification and pseudonymisation in tests without depending on ``policies.phi``.
"""

from __future__ import annotations

import re

from policies.spans import Span

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("NIR", re.compile(r"\b([12]\d{12}(?:\d{2})?)\b")),
    ("PERSON", re.compile(r"\b(?:Mme|M\.|Mr) ([A-Z][a-zéèë]+(?:-[A-Z][a-zéèë]+)?)")),
    ("IPP", re.compile(r"\bIPP ?:? ?(\d{6,10})\b")),
    ("EMAIL", re.compile(r"([\w.+-]+@[\w-]+\.[\w.]+)")),
)


class RegexTestDetector:
    """Finds the test identifiers above; the span covers the identifier only (group 1)."""

    def detect(self, text: str) -> list[Span]:
        spans: list[Span] = []
        for entity_type, pattern in _PATTERNS:
            for match in pattern.finditer(text):
                spans.append(Span(match.start(1), match.end(1), entity_type))
        return spans
