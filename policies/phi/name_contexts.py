"""Person names that the capitalised-token rules of names.py cannot see.

Prompts typed in a hurry write names in lower case, after lower-case titles ("vu par dr
martin", "mme dupont") or bare as a surname and a first name from the lexicons ("la conclusion
de dumont edouard"); nursing notes name relatives by their first name only ("appel de son
époux Richard"). Each rule rests on a context or on two lexicon words side by side.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from ahocorasick_rs import AhoCorasick, MatchKind

from policies.spans import Span

from .keyword_search import matches_at
from .kinds import PhiKind
from .lexicons import Lexicons

_PERSON = PhiKind.PERSON.value
_WORD = r"[a-zß-öø-ÿ][a-zß-öø-ÿ'\u2019\-]*[a-zß-öø-ÿ]"
# A lower-case title, then one or two lower-case words (checked against the lexicons).
# A lower-case title, then one or two lower-case words (checked against the lexicons). Each
# branch opens with its letter, the lookbehind after it: the engine then skips ahead to the
# next "m", "d" or "p" instead of testing the lookbehind at every position.
_LOWER_TITLE = re.compile(
    r"(?:m(?<![\w.\-]m)(?:\.|me\.?|lle\.?|r\.?|rs\.?|adame|onsieur)"
    r"|d(?<![\w.\-]d)(?:r\.?|octeur)|p(?<![\w.\-]p)r\.?)"
    # A typed title may still be followed by a capitalised name ("mme Lhermitte").
    rf"[ \t]+(?P<first>[A-ZÀ-ÖØ-Þ]?{_WORD})(?:[ \t]+(?P<second>{_WORD}))?(?![\w\-])"
)
# Every match of _LOWER_TITLE starts with one of these.
TITLE_KEYWORDS = tuple(
    title + blank
    for title in ("m.", "mme", "mme.", "mlle", "mlle.", "mr", "mr.", "mrs", "mrs.", "dr", "dr.",
                  "pr", "pr.", "docteur", "madame", "monsieur")
    for blank in " \t"
)  # fmt: skip
_NEXT_WORD = re.compile(rf"[ \t]+({_WORD})(?![\w\-])")
_PREVIOUS_WORD = re.compile(rf"(?<![\w\-'\u2019])({_WORD})[ \t]+\Z")
_FIRST_WORD = re.compile(rf"[ \t]*({_WORD})(?![\w\-'\u2019])")
# Lower-case words that follow a title or stand beside a first name without being a name.
_FUNCTION_WORDS = frozenset(
    {
        "est", "a", "ont", "sont", "été", "ete", "qui", "que", "ne", "pas", "plus", "très",
        "tres", "y", "se", "lui", "elle", "il", "en", "et", "ou", "à", "au", "aux", "le", "la",
        "les", "l", "un", "une", "des", "du", "de", "d", "pour", "par", "avec", "sans", "sur",
        "dans", "chez", "vu", "vue", "revu", "the", "and", "of", "to", "is", "was", "has", "ce",
        "cette", "son", "sa", "ses", "leur", "notre", "votre", "mon", "ma", "mes", "x", "xx",
        "xxx", "stp", "svp", "merci", "please", "pls", "thanks", "ok", "car", "donc", "mais",
        "puis", "alors", "aussi", "comme", "quand", "avant", "après", "apres", "demain", "hier",
        "née", "nee", "né", "âgé", "agé", "age", "âgée", "agee", "ans", "sort", "sortie", "va",
        "doit", "peut", "sera", "était", "etait", "avait", "fait",
    }
)  # fmt: skip
# Words after which a surname and a first name are written in a prompt ("dossier de X y").
_NAME_LEADS = frozenset({"de", "pour", "patient", "patiente", "chez"})
# A possessive, a relation, then the relative's name ("son époux Richard"), tried where
# one of RELATIVE_KEYWORDS (a possessive and a relation) occurs in the lower-cased text.
_POSSESSIVES = ("son", "sa", "ses", "leur", "leurs", "votre", "notre", "mon", "ma")
_RELATIONS = (
    "époux", "epoux", "épouse", "epouse", "mari", "femme", "fille", "fils", "frère", "frere",
    "sœur", "soeur", "mère", "mere", "père", "pere", "compagne", "compagnon", "conjoint",
    "conjointe", "concubin", "concubine", "neveu", "nièce", "niece", "gendre", "belle-fille",
    "beau-fils", "petite-fille", "petit-fils", "tante", "oncle", "cousin", "cousine", "voisin",
    "voisine", "tuteur", "tutrice", "curateur", "curatrice", "aidant", "aidante", "belle-sœur",
    "belle-soeur", "beau-frère", "beau-frere", "belle-mère", "belle-mere", "beau-père",
    "beau-pere",
)  # fmt: skip
RELATIVE_KEYWORDS = tuple(f"{p} {r}" for p in _POSSESSIVES for r in _RELATIONS)
_RELATION = re.compile(
    r"(?i:son|sa|ses|leurs?|votre|notre|mon|ma)[ \t]+"
    r"(?i:[ée]poux|[ée]pouse|mari|femme|fille|fils|fr[èe]re|s(?:œ|oe)ur|m[èe]re|p[èe]re"
    r"|compagne|compagnon|conjointe?|concubine?|neveu|ni[èe]ce|gendre|belle-fille|beau-fils"
    r"|petite-fille|petit-fils|tante|oncle|cousine?|voisine?|tut(?:eur|rice)|curat(?:eur|rice)"
    r"|aidante?|belle-s(?:œ|oe)ur|beau-fr[èe]re|belle-m[èe]re|beau-p[èe]re)"
    r"[ \t]*,?[ \t]+(?P<name>[A-ZÀ-ÖØ-Þ][\w'\u2019\-]+(?:[ \t]+[A-ZÀ-ÖØ-Þ][\w'\u2019\-]+)?"
    # A prompt typed in lower case: a first name from the lexicon ("son fils gaëtan").
    r"|[a-zß-öø-ÿ][\w'\u2019\-]+)"
)


# A relation as a field or a bracketed aside: "Fille (Amandine Vidalenc)", "Next of kin: Odile".
_RELATION_FIELD = re.compile(
    r"(?<![\w\-])(?=[fémpsnbdhwFÉEMPSNBDHW])(?i:fille|fils|[ée]poux|[ée]pouse|m[èe]re|p[èe]re"
    r"|s(?:œ|oe)ur|fr[èe]re|next[ \t]+of[ \t]+kin|daughter|son|wife|husband|brother|sister)"
    r"[ \t]*[(:][ \t]*"
    r"(?P<name>[A-ZÀ-ÖØ-Þ][\w'\u2019\-]+(?:[ \t]+[A-ZÀ-ÖØ-Þ][\w'\u2019\-]+)?)"
)


# Answers a relation field holds that are not names.
_FIELD_VALUES = frozenset(
    {"inconnu", "inconnue", "non", "oui", "néant", "neant", "voir", "aucun", "aucune", "absent",
     "absente", "décédé", "décédée", "decede", "decedee", "vivant", "vivante", "présent",
     "présente", "present", "presente", "joignable", "injoignable", "prévenu", "prévenue",
     "informé", "informée", "none", "unknown", "yes", "not", "see", "deceased", "alive",
     "informed", "aware", "contacted", "tél", "tel", "portable", "mobile", "domicile"}
)  # fmt: skip


class NameContextFinder:
    """Lower-case names and relatives' names; holds only immutable data."""

    def __init__(self, lexicons: Lexicons) -> None:
        self._first = lexicons.first_names - lexicons.ambiguous_first_names
        self._surnames = lexicons.surnames
        self._names = self._first | self._surnames
        self._stop = lexicons.common_words | _FUNCTION_WORDS
        # First names that are no common word: built once, not at each text opening with one.
        self._first_names = frozenset(self._first - self._stop)
        self._first_keywords = tuple(" " + name for name in sorted(self._first_names))
        # For texts whose lower-cased copy has other offsets (see find).
        self._first_automaton = AhoCorasick(
            list(self._first_keywords), matchkind=MatchKind.LeftmostLongest
        )
        self._not_names = self._stop | lexicons.acronyms

    def _is_name(self, word: str) -> bool:
        return word in self._names and word not in self._stop

    def first_name_keywords(self) -> tuple[str, ...]:
        """Keywords for the detector's keyword index: each lower-case first name after a blank.

        Found in the same pass as the other keywords, they lead :meth:`find` to the first
        names: a word-by-word loop over a long record would cost more than all the other name
        rules together.
        """
        return self._first_keywords

    def find(
        self,
        text: str,
        title_starts: list[int] | None,
        relation_starts: list[int] | None,
        first_name_hits: list[tuple[int, int]] | None,
    ) -> Iterator[Span]:
        """PERSON spans of lower-case names and of relatives named after their relation; they
        may overlap. ``title_starts`` and ``relation_starts``: where :data:`TITLE_KEYWORDS` and
        :data:`RELATIVE_KEYWORDS` occur in ``text.lower()``, in order; ``first_name_hits``: the
        ``(start, end)`` offsets of :meth:`first_name_keywords` there; all None to search
        ``text`` itself, when that copy does not have the offsets of ``text``."""
        # Known to be absent (an empty list of hits), a rule is skipped without a call.
        if title_starts is None or title_starts:
            yield from self._after_titles(text, title_starts)
        yield from self._lexicon_pairs(text, first_name_hits)
        if relation_starts is None or relation_starts:
            yield from self._relatives(text, relation_starts)
        yield from self._relative_fields(text)

    def _after_titles(self, text: str, title_starts: list[int] | None) -> Iterator[Span]:
        matches: Iterable[re.Match[str]] = (
            _LOWER_TITLE.finditer(text)
            if title_starts is None
            else matches_at(_LOWER_TITLE, text, title_starts)
        )
        for match in matches:
            first = match.group("first")
            if first.lower() in self._not_names or len(first) < 2:
                continue
            second = match.group("second")
            end = match.end("second") if second and self._is_name(second) else match.end("first")
            yield Span(match.start("first"), end, _PERSON)

    def _lexicon_pairs(
        self, text: str, first_name_hits: list[tuple[int, int]] | None
    ) -> Iterator[Span]:
        """ "dumont edouard", "edouard dumont": a lower-case first name beside a lower-case
        surname, both from the lexicons."""
        if first_name_hits is None:
            try:
                found = self._first_automaton.find_matches_as_indexes(text)
            except UnicodeEncodeError:
                return
            first_name_hits = [(start, end) for _, start, end in found]
        # The keywords open with the blank before the name; a text may open with the name.
        hits = list(first_name_hits)
        opening = _FIRST_WORD.match(text)
        if opening is not None and opening.group(1) in self._first_names:
            hits.insert(0, (-1, opening.end(1)))
        for start, end in hits:
            start += 1
            # The name must be written in lower case, and end where its word ends.
            if not text[start:end].islower():
                continue
            if end < len(text) and (text[end].isalnum() or text[end] in "-'\u2019"):
                continue
            span = self._pair(text, start, end)
            if span is not None:
                yield span

    def _pair(self, text: str, start: int, end: int) -> Span | None:
        after = _NEXT_WORD.match(text, end)
        if after is not None and self._is_surname(after.group(1)):
            return Span(start, after.end(1), _PERSON)
        before = _PREVIOUS_WORD.search(text, max(0, start - 40), start)
        # "un courrier pour sylvie marchetti": the same, first name first.
        if (
            after is not None
            and before is not None
            and before.group(1) in _NAME_LEADS
            and self._unknown_word(after.group(1))
        ):
            return Span(start, after.end(1), _PERSON)
        if before is not None and self._is_surname(before.group(1)):
            return Span(before.start(1), end, _PERSON)
        # "le dossier de douillard fernand": after "de"/"pour", a word that is no common word
        # beside a first name is the surname the lexicon does not list.
        if before is not None and self._unknown_word(before.group(1)):
            lead = _PREVIOUS_WORD.search(text, max(0, before.start(1) - 20), before.start(1))
            if lead is not None and lead.group(1) in _NAME_LEADS:
                return Span(before.start(1), end, _PERSON)
        return None

    def _unknown_word(self, word: str) -> bool:
        return len(word) >= 3 and word.isalpha() and word not in self._not_names

    def _is_surname(self, word: str) -> bool:
        return word in self._surnames and word not in self._not_names

    def _relative_fields(self, text: str) -> Iterator[Span]:
        if "(" not in text and ":" not in text:
            return
        for match in _RELATION_FIELD.finditer(text):
            parts = match.group("name").split()
            first = parts[0].lower()
            if first in self._not_names or first in _FIELD_VALUES or len(first) < 3:
                continue
            end = match.start("name") + len(parts[0])
            if len(parts) > 1 and parts[1].lower() not in self._not_names:
                end = match.end("name")
            yield Span(match.start("name"), end, _PERSON)

    def _relatives(self, text: str, relation_starts: list[int] | None) -> Iterator[Span]:
        if relation_starts is None:
            matches: Iterable[re.Match[str]] = _RELATION.finditer(text)
        else:
            matches = matches_at(_RELATION, text, relation_starts)
        for match in matches:
            start = match.start()
            if start and text[start - 1].isalnum():
                continue
            name = match.group("name")
            if name[0].islower():
                if name in self._first_names:
                    yield Span(match.start("name"), match.end("name"), _PERSON)
                continue
            parts = name.split()
            if parts[0].lower() in self._not_names:
                continue
            if len(parts) > 1 and parts[1].lower() in self._not_names:
                yield Span(match.start("name"), match.start("name") + len(parts[0]), _PERSON)
                continue
            yield Span(match.start("name"), match.end("name"), _PERSON)
