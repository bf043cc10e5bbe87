"""Person names (PERSON): after titles, in form fields, UPPER surname + first name, lexicon names.

Every capitalised or upper-case word is a candidate token; rules decide where a name starts and
``_chain`` extends it over the adjacent name-shaped tokens. Rules that rest on the lexicons alone
are guarded against eponyms ("maladie de Parkinson"), places named after people ("Hôpital
Georges Pompidou", "rue Victor Hugo") and acronyms; rules with a title or a form field are not,
since "Mme Parkinson" is a patient.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import compress, repeat
from operator import contains
from typing import NamedTuple

from policies.spans import Span

from .caseless import caseless_alternation, caseless_word
from .kinds import PhiKind
from .lexicons import Lexicons
from .tokens import Tokens, tokenise

_TITLES = frozenset(
    {"m", "mme", "mmes", "mlle", "mr", "mrs", "ms", "miss", "dr", "dre", "pr", "prof", "docteur",
     "professeur", "monsieur", "madame", "mademoiselle", "doctor", "mister"}
)  # fmt: skip
# Words followed directly by the patient's name ("le patient Martin", "Patient Tanguy Labbé").
_PATIENT_WORDS = frozenset({"patient", "patiente", "pt", "pte"})
_AFTER_PATIENT = re.compile(r"(?<![\w\-])(?i:patiente?|pte?)[ \t]+\Z")
# Words that open a form field naming a person when a colon follows ("Nom de naissance :").
_FIELD_WORDS = frozenset(
    {"nom", "prénom", "prenom", "prénoms", "prenoms", "patient", "patiente", "name", "surname",
     "first", "last", "given", "family", "full", "médecin", "medecin", "personne", "contact",
     "époux", "epoux", "épouse", "epouse", "conjoint", "conjointe", "identité", "identite",
     "destinataire", "rédacteur", "redacteur", "signataire", "kin", "cc", "attention",
     "expéditeur", "expediteur", "auteur", "aidant", "aidante", "tuteur", "tutrice", "référent",
     "referent", "mère", "mere", "père", "pere", "enfant"}
)  # fmt: skip
_FIELD_TAIL = re.compile(r"(?:[ \t]+[\w'\u2019/ \-]{1,30}?)?[ \t]*:[ \t]*")
# Roles after "M. le" / "Mme la": a title followed by a function, not by a name.
_ROLES = frozenset(
    {"cadre", "directeur", "directrice", "pharmacien", "pharmacienne", "président",
     "president", "présidente", "presidente", "chef", "responsable", "coordinateur",
     "coordinatrice", "coordonnateur", "coordonnatrice", "interne", "infirmier", "infirmière",
     "infirmiere", "médecin", "medecin", "ministre", "maire", "préfet", "prefet", "doyen",
     "doyenne", "référent", "referent", "référente", "referente", "secrétaire", "secretaire",
     "gérant", "gerant", "gérante", "gerante", "praticien", "praticienne", "assistant",
     "assistante", "surveillant", "surveillante", "administrateur", "administratrice",
     "délégué", "delegue", "déléguée", "deleguee", "professeur", "docteur", "vice-président",
     "conseiller", "conseillère", "juge", "procureur", "commissaire", "capitaine"}
)  # fmt: skip
_PARTICLES = frozenset({"le", "la", "de", "du", "da", "di", "van", "von", "el", "ben", "ter"})
# Between two tokens of one name: blanks, a lower-case particle, or an initial's dot. The
# optional particle is spelled "(?:...|)" rather than "(?:...)?" (same matches): the engine
# then rejects it on its first letter instead of setting up a repeat.
_GAP = re.compile(
    r"[ \t]+(?:(?:de|du|des|van|von|der|den|le|la|ben|bin|el|da|di|dos|do|ter)[ \t]+|d['\u2019]|)"
)
_INITIAL_GAP = re.compile(r"\.[ \t]*")
_LOWER_WORD_AFTER = re.compile(r"[ \t]+[a-zß-ÿ]")
# Words before a lexicon name that make it an eponym ("maladie de Parkinson").
_EPONYM_WORDS = (
    "maladie", "syndrome", "signe", "score", "test", "manœuvre", "manœeuvre", "manouvre",
    "manoeuvre", "classification", "échelle", "echelle", "critères", "criteres", "loi", "méthode",
    "methode", "index", "indice", "technique", "opération", "operation", "intervention",
    "procédure", "procedure", "sonde", "triade", "tétralogie", "tetralogie", "réflexe", "reflexe",
    "phénomène", "phénomene", "phenomène", "phenomene", "kyste", "tumeur", "lymphome", "sarcome",
    "fracture", "stade", "grade", "cellule", "cellules", "canal", "diverticule", "ganglion",
    "disease", "sign", "scale", "criteria", "cathéter", "catheter", "formule", "équation",
    "equation", "angle", "cercle", "polygone", "espace", "loge", "position", "ulcère", "ulcere",
    "paralysie", "chorée", "choree", "ataxie", "dystrophie", "myopathie", "anémie", "anemie",
    "thyroïdite", "thyroidite", "purpura",
)  # fmt: skip
# The eponym word, a particle, and at most one other name ("signe de Claude Bernard-Horner")
# end the text before the name: four blank-separated chunks at most (see _tail_start).
_EPONYM_HEAD = re.compile(
    caseless_alternation(_EPONYM_WORDS) + r"[ \t]+(?:de[ \t]+|d['\u2019]|du[ \t]+|of[ \t]+|)"
    r"(?:[A-ZÀ-Þ][\w'\u2019\-]*[ \t]+(?:et|and|-|)[ \t]*|)\Z"
)
_EPONYM_CHUNKS = 4
# Words before a lexicon name that make it a place ("Hôpital Georges Pompidou").
_PLACE_WORDS = (
    "hôpital", "hopital", "hospital", "institut", "centre", "center", "clinique", "fondation",
    "pavillon", "bâtiment", "batiment", "unité", "unite", "lycée", "lycee", "école", "ecole",
    "université", "universite", "faculté", "faculte", "rue", "avenue", "av.", "boulevard", "bd",
    "place", "allée", "allee", "quai", "impasse", "chemin", "square", "cours", "résidence",
    "residence", "ehpad", "maison", "polyclinique", "salle", "amphithéâtre", "amphithéatre",
    "amphitheâtre", "amphitheatre", "prix", "chu", "gh", "ghu", "street", "road", "société",
    "societe", "laboratoires", "laboratoire", "entreprise", "firme", "marque",
)  # fmt: skip
_HOSPITALIER = caseless_word("hospitalier")
_PLACE_HEAD = re.compile(
    rf"(?:{caseless_alternation(_PLACE_WORDS)}|{caseless_word('groupe')}\s+{_HOSPITALIER})"
    r"(?:[ \t\-]+(?:[A-ZÀ-Þ][\w'\u2019\-]*|de|du|des|la|le|d['\u2019]|l['\u2019]))*[ \t\-]+\Z"
)
_LEADING_HOSPITALIER = re.compile(rf"\s*{_HOSPITALIER}")
_ENGLISH_EPONYM_TAIL = re.compile(
    r"['\u2019]s[ \t]+(?i:disease|syndrome|sign|score|test|criteria|scale|law|ulcer|palsy)"
)


# A closing formula on its own line: the next line is the writer's name.
_SIGN_OFF = re.compile(
    r"(?im)^[ \t]*(?:bien[ \t]+)?(?:cordialement|confraternellement|bien[ \t]+[àa][ \t]+vous"
    r"|merci(?:[ \t]+d['\u2019]avance)?|(?:best|kind)[ \t]+regards|regards|sincerely|amicalement)"
    r"[ \t]*[,.!]?[ \t]*\r?\n[ \t]*"
)


# Every sign-off holds one of these words, in the text's lower-cased copy.
SIGN_OFF_KEYWORDS = (
    "cordialement", "confraternellement", "bien", "merci", "best", "kind", "regards",
    "sincerely", "amicalement",
)  # fmt: skip
# Characters that re.IGNORECASE matches with the "s" or "i" of a formula but that str.lower()
# leaves alone (long s, dotless i): a text holding one is searched line by line.
_UNLOWERED_FOLDS = ("\u017f", "\u0131")

# Where a sign-off line can start: a newline, blanks, and the first letter of a formula. The
# literal newline lets the regex engine jump between lines instead of trying every position.
_LINE_OPENING = re.compile(r"\n[ \t]*(?i:[abckmrs])")
_PERSON = PhiKind.PERSON.value
# What made a name start, which decides the checks it still has to pass.
_TITLE, _FIELD, _SIGN_OFF_RULE, _LEXICON = "title", "field", "sign-off", "lexicon"


class _Start(NamedTuple):
    """Where a name starts: first token, first character, and the rule that found it."""

    first: int
    offset: int
    rule: str


def _is_upper(word: str) -> bool:
    return len(word) >= 2 and word.isupper()


def _line_ends(text: str, end: int) -> bool:
    """True when only blanks or punctuation follow ``end`` on its line."""
    newline = text.find("\n", end)
    rest = text[end : len(text) if newline == -1 else newline]
    return rest.strip(" \t\r.,;") == ""


class NameFinder:
    """Finds PERSON spans with the given lexicons; holds only immutable data.

    Rules take the text's :class:`Tokens` and the index of the token they look at.
    """

    def __init__(self, lexicons: Lexicons) -> None:
        self._lex = lexicons
        # Tokens outside this set (and not upper-case, hyphenated or before an upper-case word)
        # cannot start a lexicon name: most capitalised words are skipped after one lookup.
        self._lexicon_words = lexicons.first_names | lexicons.surnames
        self._starters = self._lexicon_words | _TITLES | _FIELD_WORDS | _PATIENT_WORDS
        # Common words start no name unless a title, a field or a sign-off rule applies: a
        # capitalised "Le" or "Patiente" is dropped by one lookup before any rule runs.
        self._never_lexicon = lexicons.common_words - _TITLES - _FIELD_WORDS - _PATIENT_WORDS

    def _first_name(self, lower: str) -> bool:
        first_names = self._lex.first_names
        if lower in first_names:
            return True
        parts = lower.split("-")
        return len(parts) > 1 and all(part in first_names for part in parts)

    def _blocks_chain(self, toks: Tokens, i: int) -> bool:
        lex = self._lex
        lower = toks.lowers[i]
        if lower in lex.common_words or lower in _TITLES:
            return True
        return _is_upper(toks.words[i]) and lower in lex.acronyms

    def _chain(self, text: str, toks: Tokens, i: int) -> int:
        """Index of the last token of the name starting at token ``i`` (at most 4 tokens)."""
        starts, ends, words = toks.starts, toks.ends, toks.words
        count = len(starts)
        j = i
        while j + 1 < count and j - i < 3:
            gap_ok = _GAP.fullmatch(text, ends[j], starts[j + 1]) is not None or (
                len(words[j]) == 1 and _INITIAL_GAP.fullmatch(text, ends[j], starts[j + 1])
            )
            if not gap_ok:
                break
            if self._blocks_chain(toks, j + 1):
                # Particles ("Le Bihan", "DA SILVA") are kept when a name follows them.
                if not self._particle_before_name(text, toks, j + 1):
                    break
                j += 1
            j += 1
        return j

    def _named_patient(self, toks: Tokens, i: int) -> bool:
        """ "le patient Martin", "Patient Tanguy Labbé": a name right after the word, in
        capitals, from the lexicons, or followed by one from the lexicons."""
        word, lower = toks.words[i], toks.lowers[i]
        if self._blocks_chain(toks, i) or lower in self._lex.eponyms:
            return False
        if lower in self._lexicon_words or (_is_upper(word) and len(word) >= 3):
            return True
        # Two capitalised words, the second a lexicon name ("Patient Tanguy Labbé" is no
        # heading such as "Patient Information Leaflet").
        following = i + 1
        return (
            following < len(toks.words)
            and toks.lowers[following] in self._lexicon_words
            and not self._blocks_chain(toks, following)
            and toks.starts[following] - toks.ends[i] == 1
        )

    def _particle_before_name(self, text: str, toks: Tokens, i: int) -> bool:
        """True when token ``i`` is a particle directly followed by a name-shaped token."""
        if toks.lowers[i] not in _PARTICLES or i + 1 >= len(toks.starts):
            return False
        gap_ok = _GAP.fullmatch(text, toks.ends[i], toks.starts[i + 1]) is not None
        return gap_ok and not self._blocks_chain(toks, i + 1)

    def _name_start(self, text: str, toks: Tokens, i: int) -> int:
        """``i`` if a name can start at token ``i`` after a title or a field, else -1."""
        if i >= len(toks.starts):
            return -1
        if not self._blocks_chain(toks, i) or self._particle_before_name(text, toks, i):
            return i
        # "Dr A. Barbier": an initial, its dot, then the surname.
        if self._initial_before_name(text, toks, i):
            return i
        return -1

    def _initial_before_name(self, text: str, toks: Tokens, i: int) -> bool:
        """True when token ``i`` is one capital letter whose dot is followed by a name."""
        if len(toks.words[i]) != 1 or i + 1 >= len(toks.starts):
            return False
        # "mg/L. Codage": a unit, not an initial.
        if toks.starts[i] and text[toks.starts[i] - 1] not in ' \t\n("':
            return False
        gap_ok = _INITIAL_GAP.fullmatch(text, toks.ends[i], toks.starts[i + 1]) is not None
        return gap_ok and len(toks.words[i + 1]) >= 2 and not self._blocks_chain(toks, i + 1)

    def _initial_start(self, text: str, toks: Tokens, i: int) -> bool:
        """ "N. Maillet" with no title: the surname is a lexicon one, in capitals, or not
        followed by a lower-case word (a sentence ending "... A. Puis il" is not a name)."""
        if not self._initial_before_name(text, toks, i):
            return False
        surname, lower = toks.words[i + 1], toks.lowers[i + 1]
        if lower in self._lex.surnames or _is_upper(surname):
            return True
        return _LOWER_WORD_AFTER.match(text, toks.ends[i + 1]) is None

    def _lexicon_guarded(self, text: str, start: int, end: int, lowers: list[str]) -> bool:
        """True when a lexicon-only name (its tokens' ``lowers``) is really an eponym, a place
        or an institution."""
        eponyms = self._lex.eponyms
        if any(
            lower in eponyms or any(part in eponyms for part in lower.split("-"))
            for lower in lowers
        ):
            return True
        window = text[max(0, start - 60) : start]
        if _EPONYM_HEAD.search(window, _tail_start(window, _EPONYM_CHUNKS)):
            return True
        if _PLACE_HEAD.search(window, _place_search_start(window)):
            return True
        return _ENGLISH_EPONYM_TAIL.match(text, end) is not None

    def _may_start(self, toks: Tokens, i: int) -> bool:
        """Cheap filter before :meth:`_lexicon_start`: most capitalised words fail it at once."""
        word, lower = toks.words[i], toks.lowers[i]
        if lower in self._lexicon_words or "-" in word:
            return True
        acronyms = self._lex.acronyms
        if word.isupper():
            return lower not in acronyms
        if i + 1 < len(toks.words):
            return toks.words[i + 1].isupper() and toks.lowers[i + 1] not in acronyms
        return False

    def _lexicon_start(self, text: str, toks: Tokens, i: int) -> bool:
        """True when lexicon evidence says a name starts at token ``i``."""
        lex = self._lex
        word, lower = toks.words[i], toks.lowers[i]
        if lower in lex.common_words:
            return False
        upper = _is_upper(word)
        if upper and lower in lex.acronyms:
            return False
        count = len(toks.words)
        following = i + 1
        # "Djibril DE KERGUELEN": look past a particle to the name it introduces.
        if following + 1 < count and self._particle_before_name(text, toks, following):
            following += 1
        pair = (
            following < count
            and _GAP.fullmatch(text, toks.ends[i], toks.starts[i + 1]) is not None
            and not self._blocks_chain(toks, following)
        )
        if self._first_name(lower):
            if pair:
                return True
            # Alone, an all-caps first name is more often an acronym ("EVA 6/10"), and one that
            # is also a town ("Antony, le 2 mars") more often the town.
            return (
                not upper
                and lower not in lex.ambiguous_first_names
                and lower not in lex.cities
                and len(word) >= 3
            )
        if pair and len(word) >= 3 and len(nxt := toks.words[following]) >= 3:
            # "DUPONT Marie" / "Marie DUPONT": the administrative convention, with or without
            # the lexicons, once acronyms and common words are ruled out.
            if upper and not nxt.isupper() and nxt.isalpha():
                return True
            if not upper and nxt.isupper() and word.replace("-", "").isalpha():
                return True
            # "Dupont Marie": a lexicon surname before a lexicon first name.
            if lower in lex.surnames and self._first_name(toks.lowers[following]):
                return True
        if upper:
            return len(word) >= 3 and lower in lex.surnames
        return False

    def _candidates(self, text: str, toks: Tokens, sign_offs: set[int]) -> list[int]:
        """Indices of the tokens a name may start at, in order; the others need no rule.

        A name starts at a lexicon word, title or field word, a hyphenated word, an upper-case
        word that is not an acronym or the word just before one (common words excepted), or the
        line after a sign-off.
        Set lookups and ``str`` tests run through C-level ``map`` over all tokens at once.
        """
        words, lowers = toks.words, toks.lowers
        indices = range(len(words))
        picked = set(compress(indices, map(self._starters.__contains__, lowers)))
        picked.update(compress(indices, map(contains, words, repeat("-"))))
        acronyms = self._lex.acronyms
        for i in compress(indices, map(str.isupper, words)):
            if len(words[i]) > 1 and lowers[i] not in acronyms:
                picked.add(i)
                if i:
                    picked.add(i - 1)
        picked.difference_update(compress(indices, map(self._never_lexicon.__contains__, lowers)))
        if sign_offs:
            picked.update(compress(indices, map(sign_offs.__contains__, toks.starts)))
        # Initials ("N. Maillet"): one capital letter directly followed by its dot.
        for i in compress(indices, map((1).__eq__, map(len, words))):
            if text.startswith(".", toks.ends[i]):
                picked.add(i)
        return sorted(picked)

    def _start(self, text: str, toks: Tokens, i: int, sign_offs: set[int]) -> _Start | None:
        """The name that token ``i`` announces or begins, if a rule says there is one."""
        lower, starts = toks.lowers[i], toks.starts
        count = len(starts)
        if lower in _TITLES and i + 1 < count:
            dot = text.startswith(".", toks.ends[i])
            gap = _GAP.fullmatch(text, toks.ends[i] + dot, starts[i + 1])
            # "M" is a title only with its dot or before an upper-case surname.
            if gap is None or not (lower != "m" or dot or toks.words[i + 1].isupper()):
                return None
            index = self._name_start(text, toks, i + 1)
            if index < 0:
                return None
            # "Mme de La Tour": the span starts at the particle between title and name.
            particle = gap.group().strip()
            if particle in {"le", "la"} and toks.lowers[index] in _ROLES:
                return None
            offset = gap.start() + gap.group().index(particle) if particle else starts[index]
            return _Start(index, offset, _TITLE)
        if starts[i] in sign_offs:
            index = self._name_start(text, toks, i)
            return _Start(index, starts[index], _SIGN_OFF_RULE) if index >= 0 else None
        if _AFTER_PATIENT.search(text, max(0, starts[i] - 12), starts[i]) and self._named_patient(
            toks, i
        ):
            return _Start(i, starts[i], _FIELD)
        if lower in _FIELD_WORDS and i + 1 < count:
            tail = _FIELD_TAIL.match(text, toks.ends[i])
            if tail is None or tail.end() != starts[i + 1]:
                return None
            # "Patient : M. DUPONT" names the person after the title.
            skip = 2 if toks.lowers[i + 1] in _TITLES else 1
            index = self._name_start(text, toks, i + skip)
            return _Start(index, starts[index], _FIELD) if index >= 0 else None
        if self._may_start(toks, i) and self._lexicon_start(text, toks, i):
            return _Start(i, starts[i], _LEXICON)
        if len(toks.words[i]) == 1 and self._initial_start(text, toks, i):
            return _Start(i, starts[i], _LEXICON)
        return None

    def find(self, text: str, sign_off_words: list[int] | None = None) -> Iterator[Span]:
        """PERSON spans, in text order, not overlapping one another.

        ``sign_off_words``: where :data:`SIGN_OFF_KEYWORDS` occur in ``text.lower()``, in
        order, when that copy has the offsets of ``text``; None to search line by line.
        """
        toks = tokenise(text)
        sign_offs = _sign_off_ends(text, sign_off_words)
        resume = 0
        for i in self._candidates(text, toks, sign_offs):
            if i < resume:
                continue
            start = self._start(text, toks, i, sign_offs)
            if start is None:
                continue
            last = self._chain(text, toks, start.first)
            resume = last + 1
            end = toks.ends[last]
            # A sign-off is followed by a name only when the name is all its line holds.
            if start.rule is _SIGN_OFF_RULE and not _line_ends(text, end):
                continue
            if start.rule is _LEXICON and self._lexicon_guarded(
                text, start.offset, end, toks.lowers[start.first : last + 1]
            ):
                continue
            yield Span(start.offset, end, _PERSON)


def _tail_start(window: str, chunks: int) -> int:
    """Where the last ``chunks`` whitespace-separated chunks of ``window`` begin (0 if fewer).

    A match made of at most that many blank-separated pieces, ending at the end of ``window``
    and holding no other whitespace, cannot start earlier: searching from here is exact.
    """
    head = window.rsplit(None, chunks)
    return len(head[0]) if len(head) > chunks else 0


def _place_search_start(window: str) -> int:
    """Where a :data:`_PLACE_HEAD` match in ``window`` can start: on its last line, unless that
    line opens with the "hospitalier" of a "groupe hospitalier" broken across lines."""
    line = window.rfind("\n") + 1
    return 0 if _LEADING_HOSPITALIER.match(window, line) else line


def _sign_off_ends(text: str, word_starts: list[int] | None = None) -> set[int]:
    """Offsets just after each sign-off line and the blanks that open the next line.

    Same matches as ``_SIGN_OFF.finditer(text)``: the pattern is tried only at the starts of
    lines that hold a formula's word (``word_starts``, see :meth:`NameFinder.find`) or, without
    them, that open with a letter a formula can begin with, skipping any inside a match.
    """
    ends: set[int] = set()
    resume = 0
    if word_starts is not None and not any(fold in text for fold in _UNLOWERED_FOLDS):
        line_starts = sorted({text.rfind("\n", 0, at) + 1 for at in word_starts})
    else:
        line_starts = [0, *(m.start() + 1 for m in _LINE_OPENING.finditer(text))]
    for line_start in line_starts:
        if line_start < resume:
            continue
        match = _SIGN_OFF.match(text, line_start)
        if match is not None:
            ends.add(match.end())
            resume = match.end()
    return ends
