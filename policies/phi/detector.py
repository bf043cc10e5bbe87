"""The PHI detector: runs every finder, settles overlaps, drops institutional data."""

from __future__ import annotations

import bisect
from functools import lru_cache

from policies.spans import Span

from .addresses import CITY_CONTEXT_KEYWORDS, NOT_CITY_WORDS, find_lexicon_cities
from .config import DetectorConfig
from .dates import BIRTH_WORDS, ENGLISH_MONTH_KEYWORDS, find_english_month_first_dates
from .emails import find_emails
from .hospital_numbers import DEFAULT_ANCHOR_KEYWORDS, HospitalNumberFinder
from .iban import find_ibans
from .institutional import HINT_KEYWORDS, REGISTRY_KEYWORDS, InstitutionalFilter
from .keyword_index import Hits, KeywordIndex, starts
from .kinds import ALL_KINDS, PhiKind
from .lexicons import Lexicons, load_lexicons
from .lone_spans import drop_lone_spans
from .name_contexts import RELATIVE_KEYWORDS, TITLE_KEYWORDS, NameContextFinder
from .names import SIGN_OFF_KEYWORDS, NameFinder
from .normalise import normalise
from .numeric_scanner import scan_numbers
from .phones import find_plus_phones
from .scanned_text import ScannedText
from .tables import HEADER_KEYWORDS, find_table_cells

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
# Priorities as non-negative distances from the highest (unknown types rank 0).
_TOP = max(0, *_PRIORITY.values())
# From this many candidates on, overlaps are settled with a byte per character (see _resolve).
_MANY_CANDIDATES = 64
_K = PhiKind
_HOSPITAL, _CITY_CONTEXT, _REGISTRY, _BIRTH, _MONTH, _SIGN_OFF = (
    "hospital", "city", "registry", "birth", "month", "sign-off"
)  # fmt: skip
_TITLE, _RELATIVE, _FIRST_NAME, _HEADER = "title", "relative", "first name", "header"


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
        self._numbers = HospitalNumberFinder(
            self.config.ipp_patterns,
            self.config.nda_patterns,
            self.config.ipp_shapes,
            self.config.nda_shapes,
        )
        self._names = NameFinder(self._lexicons)
        self._name_contexts = NameContextFinder(self._lexicons)
        # Capitalised words after "à" that are not communes ("à Domicile", "à Mme").
        self._not_cities = self._lexicons.common_words | self._lexicons.first_names | NOT_CITY_WORDS
        self._institutional = InstitutionalFilter(
            self.config.institutional,
            heuristics=self.config.institutional_heuristics,
            names=self._lexicons.first_names | self._lexicons.surnames,
        )
        self._keywords = KeywordIndex(
            {
                _HOSPITAL: DEFAULT_ANCHOR_KEYWORDS,
                _CITY_CONTEXT: CITY_CONTEXT_KEYWORDS,
                _REGISTRY: REGISTRY_KEYWORDS,
                _BIRTH: BIRTH_WORDS,
                _MONTH: ENGLISH_MONTH_KEYWORDS,
                _SIGN_OFF: SIGN_OFF_KEYWORDS,
                _TITLE: TITLE_KEYWORDS,
                _HEADER: HEADER_KEYWORDS,
                _RELATIVE: RELATIVE_KEYWORDS,
                _FIRST_NAME: self._name_contexts.first_name_keywords(),
                **HINT_KEYWORDS,
            }
        )

    def _candidates(self, scanned: ScannedText, hits: Hits | None) -> list[Span]:
        text = scanned.text
        # Offsets found in the lower-cased copy are text offsets only when it is aligned.
        aligned = hits if scanned.aligned else None
        # Cells come first: on a tie with a shape-based candidate, the column's kind wins.
        found: list[Span] = (
            list(find_table_cells(text, scanned.lowered, starts(aligned[_HEADER])))
            if aligned is not None and aligned[_HEADER]
            else []
        )
        # Dates, phone numbers, NIR, RPPS, addresses and postcodes all hold digits: a short
        # question without any skips their finders.
        if scanned.has_digits:
            birth = aligned[_BIRTH] if aligned is not None else None
            found.extend(
                scan_numbers(text, self._lexicons.cities, birth, ascii_digits=scanned.ascii_digits)
            )
            found.extend(find_plus_phones(text))
            months = starts(aligned[_MONTH]) if aligned is not None else None
            found.extend(find_english_month_first_dates(text, months, birth))
        if self._iban:
            found.extend(find_ibans(scanned))
        if self._hospital_numbers:
            anchors = starts(hits[_HOSPITAL]) if hits is not None else None
            found.extend(self._numbers.find(scanned, self._enabled, anchors))
        if self._email and "@" in text:
            found.extend(find_emails(text))
        if self._city:
            contexts = starts(hits[_CITY_CONTEXT]) if hits is not None else None
            found.extend(
                find_lexicon_cities(
                    text, scanned.lowered, self._lexicons.cities, contexts, self._not_cities
                )
            )
        if self._person:
            sign_offs = starts(aligned[_SIGN_OFF]) if aligned is not None else None
            found.extend(self._names.find(text, sign_offs))
            if aligned is not None:
                found.extend(
                    self._name_contexts.find(
                        text,
                        starts(aligned[_TITLE]),
                        starts(aligned[_RELATIVE]),
                        aligned[_FIRST_NAME],
                    )
                )
            else:
                found.extend(self._name_contexts.find(text, None, None, None))
        if self._all_enabled:
            return found
        on = self._enabled
        return [span for span in found if span.type in on]

    def detect(self, text: str) -> list[Span]:
        """Identifier spans of ``text``: sorted, non-overlapping, adjacent same-type spans merged.

        Offsets index the Python ``str`` (code points), end exclusive. Detection reads the
        text's normalised view (odd spaces, invisible characters, non-ASCII digits, lookalike
        letters: see :mod:`.normalise`); spans are given in the original text.
        """
        view = normalise(text)
        if view.changed:
            return view.original_spans(self._detect(view.text))
        return self._detect(text, view.encoded)

    def _detect(self, text: str, encoded: bytes | None = None) -> list[Span]:
        scanned = ScannedText.of(text, encoded)
        hits = self._keywords.find(scanned.lowered)
        chosen = _resolve(self._candidates(scanned, hits))
        registry = starts(hits[_REGISTRY]) if hits is not None else None
        kept = self._institutional.filter(scanned, chosen, registry, hits)
        return _merge(text, drop_lone_spans(scanned.lowered, kept))


def _resolve(candidates: list[Span]) -> list[Span]:
    """Keeps, among overlapping candidates, the highest-priority then longest ones."""
    # A short text's few candidates are settled as cheaply by keeping the chosen ones sorted,
    # without the passes that set up the integer ranks below.
    if len(candidates) < _MANY_CANDIDATES:
        return _resolve_sorted(sorted(candidates, key=_rank))
    width = max(span.end for span in candidates) + 1
    if min(span.start for span in candidates) < 0 or min(span.end for span in candidates) < 0:
        return _resolve_sorted(sorted(candidates, key=_rank))
    # The rank (priority, then length, then start) as one integer, each part in its own
    # digits of base 2 * width: integers compare several times faster than tuples, and a long
    # record holds some ten thousand candidates. Equal ranks keep their order, as tuples do.
    base = 2 * width
    ranked = sorted(
        candidates,
        key=lambda s: (
            ((_TOP - _PRIORITY.get(s.type, 0)) * base + width + s.start - s.end) * base + s.start
        ),
    )
    # The characters already taken, one byte each: a span is tested with one C-level search
    # of its own stretch, where keeping the chosen spans sorted cost a list insertion each,
    # which grows with their number.
    taken = bytearray(width)
    chosen: list[Span] = []
    for span in ranked:
        start, end = span.start, span.end
        if start >= end:
            # An empty (or reversed) span overlaps in other ways: the general rule decides.
            return _resolve_sorted(ranked)
        if taken.find(1, start, end) == -1:
            taken[start:end] = b"\x01" * (end - start)
            chosen.append(span)
    # Disjoint non-empty spans have distinct starts: sorted by start.
    chosen.sort()
    return chosen


def _rank(span: Span) -> tuple[int, int, int]:
    return (-_PRIORITY.get(span.type, 0), span.start - span.end, span.start)


def _resolve_sorted(ranked: list[Span]) -> list[Span]:
    """:func:`_resolve` of candidates already ranked, keeping the chosen spans sorted."""
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
