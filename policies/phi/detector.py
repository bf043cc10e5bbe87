"""The PHI detector: runs every finder, settles overlaps, drops institutional data."""

from __future__ import annotations

import bisect
from functools import lru_cache

from policies.spans import Span

from .addresses import find_lexicon_cities
from .config import DetectorConfig
from .dates import find_english_month_first_dates
from .emails import find_emails
from .hospital_numbers import HospitalNumberFinder
from .iban import find_ibans
from .institutional import InstitutionalFilter
from .kinds import ALL_KINDS, PhiKind
from .lexicons import Lexicons, load_lexicons
from .names import NameFinder
from .numeric_scanner import scan_numbers
from .phones import find_plus_phones
from .scanned_text import ScannedText

# When two candidates overlap, the more specific evidence wins: checksums and keywords first,
# context-free shapes next, lexicon-based names last. Ties go to the longer span.
_PRIORITY: dict[str, int] = {
    PhiKind.EMAIL.value: 10,
    PhiKind.NIR.value: 9,
    PhiKind.IBAN.value: 9,
    PhiKind.RPPS.value: 8,
    PhiKind.IPP.value: 8,
    PhiKind.NDA.value: 8,
    PhiKind.PHONE.value: 7,
    # A street named after a date ("rue du 8 Mai 1945") is an address, not a date.
    PhiKind.ADDRESS.value: 6,
    PhiKind.BIRTHDATE.value: 5,
    PhiKind.DATE.value: 5,
    PhiKind.ZIP.value: 4,
    PhiKind.CITY.value: 3,
    PhiKind.PERSON.value: 2,
}
_K = PhiKind


class PhiDetector:
    """Finds identifiers in French and English clinical text.

    Thread-safe and reusable: it holds only compiled patterns and frozen word sets.
    """

    def __init__(self, config: DetectorConfig | None = None, lexicons: Lexicons | None = None):
        self.config = config if config is not None else DetectorConfig()
        self._lexicons = lexicons if lexicons is not None else load_lexicons()
        self._enabled = self.config.enabled_types
        # Which finders run, decided once: testing enum members against the set on every call
        # costs a Python-level hash each.
        on = self._enabled
        self._all_enabled = on >= ALL_KINDS
        self._iban = _K.IBAN.value in on
        self._hospital_numbers = _K.IPP.value in on or _K.NDA.value in on
        self._email = _K.EMAIL.value in on
        self._city = _K.CITY.value in on
        self._person = _K.PERSON.value in on
        self._numbers = HospitalNumberFinder(self.config.ipp_patterns, self.config.nda_patterns)
        self._names = NameFinder(self._lexicons)
        self._institutional = InstitutionalFilter(
            self.config.institutional, heuristics=self.config.institutional_heuristics
        )

    def _candidates(self, scanned: ScannedText) -> list[Span]:
        text = scanned.text
        found = list(scan_numbers(text, self._lexicons.cities))
        found.extend(find_plus_phones(text))
        found.extend(find_english_month_first_dates(text))
        if self._iban:
            found.extend(find_ibans(scanned))
        if self._hospital_numbers:
            found.extend(self._numbers.find(scanned, self._enabled))
        if self._email and "@" in text:
            found.extend(find_emails(text))
        if self._city:
            found.extend(find_lexicon_cities(text, scanned.lowered, self._lexicons.cities))
        if self._person:
            found.extend(self._names.find(text))
        if self._all_enabled:
            return found
        on = self._enabled
        return [span for span in found if span.type in on]

    def detect(self, text: str) -> list[Span]:
        """Identifier spans of ``text``: sorted, non-overlapping, adjacent same-type spans merged.

        Offsets index the Python ``str`` (code points), end exclusive.
        """
        scanned = ScannedText.of(text)
        chosen = _resolve(self._candidates(scanned))
        kept = self._institutional.filter(scanned, chosen)
        return _merge(text, kept)


def _resolve(candidates: list[Span]) -> list[Span]:
    """Keeps, among overlapping candidates, the highest-priority then longest ones."""
    ranked = sorted(candidates, key=lambda s: (-_PRIORITY.get(s.type, 0), s.start - s.end, s.start))
    starts: list[int] = []
    chosen: list[Span] = []
    for span in ranked:
        at = bisect.bisect_left(starts, span.start)
        # Chosen spans are disjoint and sorted, so only the neighbours can overlap.
        if at > 0 and chosen[at - 1].end > span.start:
            continue
        if at < len(chosen) and chosen[at].start < span.end:
            continue
        starts.insert(at, span.start)
        chosen.insert(at, span)
    return chosen


def _merge(text: str, spans: list[Span]) -> list[Span]:
    """Joins same-type neighbours separated by nothing or by blanks on one line."""
    merged: list[Span] = []
    for span in spans:
        if merged:
            last = merged[-1]
            gap = text[last.end : span.start]
            if last.type == span.type and (gap == "" or gap.strip(" \t") == ""):
                merged[-1] = Span(last.start, span.end, span.type)
                continue
        merged.append(span)
    return merged


@lru_cache(maxsize=1)
def default_detector() -> PhiDetector:
    """The detector with the default configuration, built on first use."""
    return PhiDetector()


def detect(text: str) -> list[Span]:
    """:meth:`PhiDetector.detect` with the default configuration."""
    return default_detector().detect(text)
