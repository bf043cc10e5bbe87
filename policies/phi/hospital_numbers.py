"""Hospital patient numbers (IPP) and stay numbers (NDA), found by per-hospital regexes.

Each hospital formats them its own way, so the patterns are configuration; the defaults need a
keyword ("IPP : 123456789", "NDA 2024123456") because a bare 9-digit number is not evidence.
A hospital whose numbers have a distinctive shape (ten digits opening with 80) configures it as
a *shape*, found without any keyword ("réf. 8012345678", a table cell).
A pattern reports its named group ``id`` when it has one, else its first group, else the match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from policies.spans import Span

from .keyword_search import keyword_positions, matches_at
from .kinds import PhiKind
from .scanned_text import ScannedText

# "N°" as keyboards and software write it: degree sign, masculine ordinal, ring, numero sign.
_NO = r"(?:n[°º˚]|№)"
_SEP = rf"[ \t]*(?i:{_NO}|no\.?|num(?:[ée]ro|ber)?\.?|#)?[ \t]*[:=]?[ \t]*(?:-[ \t]+)?"
# The number: digits, letters then digits, or digits in groups ("123 456 789", "2024-001234"),
# never a day and month ("Admission : 12/03/2024" is a date).
_ID = (
    r"(?!\d{1,2}[/.\- ]\d{1,2}(?:[/.\- ]\d{2,4})?(?!\d)|\d{1,2}[/.\-]\d{4}(?!\d|[/.\-]\d))"
    r"(?P<id>\d{5,12}|[A-Z]{1,3}-?\d{5,10}|\d{2,4}(?:[ .\-/]\d{2,6}){1,4})"
    r"(?![\w]|[ .\-/]\d)"
)

DEFAULT_IPP_PATTERNS: tuple[str, ...] = (
    r"(?i:\bIPP(?![a-z])(?:[ \t]+(?:du|de[ \t]+la)[ \t]+patiente?)?"
    r"|\bI\.P\.P\.?|\bNIP\b|\bN\.I\.P\b\.?|\bPID\b|\bID[ \t]+patient|\bID\b"
    r"|\bMRN\b|identifiant(?:\s+(?:permanent|unique|patient|du\s+patient))*"
    rf"|(?:{_NO}|num[ée]ro)\s*(?:d['\u2019])?identification|dossier\s+(?:patient|m[ée]dical)"
    r"|medical\s+record\s+(?:number|no\.?)|(?:hospital|nhs|unit|chart)\s+(?:number|no\b\.?)"
    rf"|(?:{_NO}|no\.?|num(?:[ée]ro)?\.?)\s*(?:de\s+|du\s+)?patient|num[ée]ro\s+permanent"
    r"|code\s+patient|r[ée]f(?:[ée]rence)?\.?\s*(?:du\s+)?(?:dossier\s+)?patient"
    # "le patient 4512367": a number of six digits or more right after the word.
    rf"|patiente?(?=[ \t]*(?:{_NO}|no\b|num|#)|[ \t]+\d{{6}})|\bpte?(?=[ \t]+\d{{6}}))"
    + _SEP
    + _ID,
)
DEFAULT_NDA_PATTERNS: tuple[str, ...] = (
    r"(?i:\bNDA\b|\bN\.D\.A\.?|\bNDS\b"
    rf"|{_NO}\s*(?:de\s+)?(?:dossier|s[ée]jour|venue|passage)"
    r"|num[ée]ro\s+(?:de\s+)?(?:dossier|s[ée]jour|venue|passage)"
    r"|(?:encounter|visit|admission)\s+(?:number|no\.?|id)"
    r"|(?:identifiant|\bid)\s+(?:de\s+|du\s+)?(?:s[ée]jour|venue)"
    r"|(?:venue|s[ée]jour|passage|[ée]pisode|dossier|hospitalisation|admission|entr[ée]e)"
    rf"(?=[ \t]*(?:{_NO}|no\b|num|[:=][ \t]*\d|\d))|\bIEP\b"
    rf"|(?:{_NO}|num[ée]ro)\s*(?:d['\u2019]|de\s+l['\u2019])?(?:hospitalisation|admission|entr[ée]e))"
    + _SEP
    + _ID,
)


# Every default pattern starts with one of these keywords; finding them in the lower-cased text
# is much faster than running the case-insensitive patterns over the whole text.
_DEFAULT_ANCHOR = re.compile(
    r"ipp|i\.p\.p|identifiant|mrn|medical|hospital|n[°º˚]|№|nda|n\.d\.a|nds|num|encounter|visit"
    r"|admission|venue|s[ée]jour|passage|nip|n\.i\.p|pid|id|dossier|patient|[ée]pisode|iep|code"
    r"|r[ée]f|hospitalisation|entr[ée]e|nhs|unit|chart|no|pte?\b"
)
DEFAULT_ANCHOR_KEYWORDS = (
    "ipp", "i.p.p", "identifiant", "mrn", "medical", "hospital", "n°", "nda", "n.d.a", "nds",
    "numéro", "numero", "encounter", "visit", "admission", "venue", "séjour", "sejour",
    "passage", "nip", "pid", "id ", "id:", "dossier", "patient n", "patiente n", "patient #",
    "patient num", "patiente num", "épisode", "episode", "iep", "nº", "n˚", "№", "num.", "num ",
    "n.i.p", "code patient", "nhs", "unit n", "chart n", "no du patient", "no de patient",
    "no patient", "no. patient",
    # Frequent words are keywords only with what the patterns need after them: a keyword
    # occurrence costs a pattern try.
    *(f"{reference} {what}" for reference in ("réf.", "réf", "ref.", "ref", "référence",
                                             "reference") for what in ("patient", "dossier", "du")),
    *(f"{stay}{after}" for stay in ("hospitalisation", "entrée", "entree")
      for after in (" n", " :", ":", " num", " №", *(f" {digit}" for digit in range(10)))),
    *(f"patient {digit}" for digit in range(10)),
    *(f"{pt} {digit}" for pt in ("pt", "pte") for digit in range(10)),
)  # fmt: skip
_DEFAULTS = frozenset(DEFAULT_IPP_PATTERNS + DEFAULT_NDA_PATTERNS)
# The shape of the demo hospital's patient numbers, found without a keyword: ten digits opening
# with 80. A shape is worth configuring only when it is this distinctive: it is matched
# wherever it stands alone in the text.
DEFAULT_IPP_SHAPES: tuple[str, ...] = (r"80\d{8}",)
# A shape stands alone: not glued to a word, a decimal, a date or a longer number. What stands
# before it is checked in Python (``_glued``): a leading lookbehind would keep the engine from
# jumping to the shape's literal prefix.
_SHAPE_AFTER = r"(?![\w]|[.,/\-]\d)"
_GLUE = frozenset(".,/+-_")


def _group(pattern: re.Pattern[str]) -> int | str:
    if "id" in pattern.groupindex:
        return "id"
    return 1 if pattern.groups >= 1 else 0


class HospitalNumberFinder:
    """Compiled IPP and NDA patterns; immutable once built."""

    def __init__(
        self,
        ipp_patterns: Iterable[str],
        nda_patterns: Iterable[str],
        ipp_shapes: Iterable[str] = (),
        nda_shapes: Iterable[str] = (),
    ) -> None:
        self._patterns: tuple[tuple[re.Pattern[str], int | str, str, bool], ...] = tuple(
            (re.compile(source), _group(re.compile(source)), kind, source in _DEFAULTS)
            for sources, kind in (
                (ipp_patterns, PhiKind.IPP.value),
                (nda_patterns, PhiKind.NDA.value),
            )
            for source in sources
        )
        self._shapes: tuple[tuple[re.Pattern[str], str], ...] = tuple(
            (re.compile(f"(?:{shape}){_SHAPE_AFTER}"), kind)
            for shapes, kind in ((ipp_shapes, PhiKind.IPP.value), (nda_shapes, PhiKind.NDA.value))
            for shape in shapes
        )

    def find(
        self,
        scanned: ScannedText,
        kinds: frozenset[str],
        keyword_starts: list[int] | None = None,
    ) -> Iterator[Span]:
        """Spans of the numbers matched by the patterns of the kinds in ``kinds``.

        ``keyword_starts``: where :data:`DEFAULT_ANCHOR_KEYWORDS` occur in ``scanned.lowered``,
        in order, if already known.
        """
        text = scanned.text
        anchors: list[int] | None = None
        for pattern, group, kind, anchored in self._patterns:
            if kind not in kinds:
                continue
            matches: Iterable[re.Match[str] | None]
            if anchored:
                # Every default pattern ends with digits.
                if not scanned.has_digits:
                    continue
                if anchors is None:
                    anchors = (
                        _anchors(scanned.lowered, keyword_starts)
                        if scanned.aligned
                        else list(range(len(text)))
                    )
                matches = (pattern.match(text, at) for at in anchors)
            else:
                matches = pattern.finditer(text)
            for match in matches:
                if match is None:
                    continue
                start, end = match.span(group)
                if start < end:
                    yield Span(start, end, kind)
        if self._shapes and scanned.has_digits:
            yield from self._shaped(text, kinds)

    def _shaped(self, text: str, kinds: frozenset[str]) -> Iterator[Span]:
        """Numbers of a configured shape standing alone, with no keyword."""
        for pattern, kind in self._shapes:
            if kind not in kinds:
                continue
            for match in pattern.finditer(text):
                start = match.start()
                glued = start and (text[start - 1].isalnum() or text[start - 1] in _GLUE)
                if not glued and match.end() > start:
                    yield Span(start, match.end(), kind)


def _anchors(lowered: str, keyword_starts: list[int] | None) -> list[int]:
    """Where a default pattern can match: its keyword, checked by ``_DEFAULT_ANCHOR``."""
    if keyword_starts is None:
        keyword_starts = keyword_positions(lowered, DEFAULT_ANCHOR_KEYWORDS)
    return [m.start() for m in matches_at(_DEFAULT_ANCHOR, lowered, keyword_starts)]
