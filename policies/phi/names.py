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
from typing import NamedTuple

from policies.spans import Span

from .kinds import PhiKind
from .lexicons import Lexicons

_LETTERS = "A-Za-zÀ-ÖØ-öø-ÿ"
# Capitalised or upper-case words; possessive, so that a word glued to digits ("DZQM006",
# "B12") is a code and not a shorter word.
_TOKEN = re.compile(
    rf"[A-ZÀ-ÖØ-Þ](?<![\w\-'\u2019].)[{_LETTERS}'\u2019]*+(?:-[{_LETTERS}][{_LETTERS}'\u2019]*+)*+(?![\d])"
)

_TITLES = frozenset(
    {"m", "mme", "mmes", "mlle", "mr", "mrs", "ms", "miss", "dr", "dre", "pr", "prof", "docteur",
     "professeur", "monsieur", "madame", "mademoiselle", "doctor", "mister"}
)  # fmt: skip
# Words that open a form field naming a person when a colon follows ("Nom de naissance :").
_FIELD_WORDS = frozenset(
    {"nom", "prénom", "prenom", "prénoms", "prenoms", "patient", "patiente", "name", "surname",
     "first", "last", "given", "family", "full", "médecin", "medecin", "personne", "contact",
     "époux", "epoux", "épouse", "epouse", "conjoint", "conjointe", "identité", "identite",
     "destinataire", "rédacteur", "redacteur", "signataire", "kin"}
)  # fmt: skip
_FIELD_TAIL = re.compile(r"(?:[ \t]+[\w'\u2019/ \-]{1,30}?)?[ \t]*:[ \t]*")
_PARTICLES = frozenset({"le", "la", "de", "du", "da", "di", "van", "von", "el", "ben", "ter"})
# Between two tokens of one name: blanks, a lower-case particle, or an initial's dot.
_GAP = re.compile(
    r"[ \t]+(?:(?:de|du|des|van|von|der|den|le|la|ben|bin|el|da|di|dos|do|ter)[ \t]+|d['\u2019])?"
)
_INITIAL_GAP = re.compile(r"\.[ \t]*")
_EPONYM_HEAD = re.compile(
    r"(?i:maladie|syndrome|signe|score|test|man[œo]e?uvre|classification|[ée]chelle|crit[èe]res"
    r"|loi|m[ée]thode|index|indice|technique|op[ée]ration|intervention|proc[ée]dure|sonde|triade"
    r"|t[ée]tralogie|r[ée]flexe|ph[ée]nom[èe]ne|kyste|tumeur|lymphome|sarcome|fracture|stade"
    r"|grade|cellules?|canal|diverticule|ganglion|disease|sign|scale|criteria|cath[ée]ter"
    r"|formule|[ée]quation|angle|cercle|polygone|espace|loge|position|manoeuvre|ulc[èe]re"
    r"|paralysie|chor[ée]e|ataxie|dystrophie|myopathie|an[ée]mie|thyro[ïi]dite|purpura|sonde)"
    r"[ \t]+(?:de[ \t]+|d['\u2019]|du[ \t]+|of[ \t]+)?"
    r"(?:[A-ZÀ-Þ][\w'\u2019\-]*[ \t]+(?:et|and|-)?[ \t]*)?\Z"
)
_PLACE_HEAD = re.compile(
    r"(?i:h[ôo]pital|hospital|institut|centre|center|clinique|fondation|groupe\s+hospitalier"
    r"|pavillon|b[âa]timent|unit[ée]|lyc[ée]e|[ée]cole|universit[ée]|facult[ée]|rue|avenue|av\."
    r"|boulevard|bd|place|all[ée]e|quai|impasse|chemin|square|cours|r[ée]sidence|ehpad|maison"
    r"|polyclinique|salle|amphith[ée][âa]tre|prix|fondation|chu|gh|ghu|street|road)"
    r"(?:[ \t\-]+(?:[A-ZÀ-Þ][\w'\u2019\-]*|de|du|des|la|le|d['\u2019]|l['\u2019]))*[ \t\-]+\Z"
)
_ENGLISH_EPONYM_TAIL = re.compile(
    r"['\u2019]s[ \t]+(?i:disease|syndrome|sign|score|test|criteria|scale|law|ulcer|palsy)"
)


# A closing formula on its own line: the next line is the writer's name.
_SIGN_OFF = re.compile(
    r"(?im)^[ \t]*(?:bien[ \t]+)?(?:cordialement|confraternellement|bien[ \t]+[àa][ \t]+vous"
    r"|merci(?:[ \t]+d['\u2019]avance)?|(?:best|kind)[ \t]+regards|regards|sincerely|amicalement)"
    r"[ \t]*[,.!]?[ \t]*\r?\n[ \t]*"
)


_SIGN_OFF_WORDS = ("cordialement", "confraternellement", "vous", "merci", "regards", "sincerely",
                   "amicalement")  # fmt: skip


class _Token(NamedTuple):
    start: int
    end: int
    word: str
    lower: str


_new_tuple = tuple.__new__
_PERSON = PhiKind.PERSON.value


def _is_upper(token: _Token) -> bool:
    return len(token.word) >= 2 and token.word.isupper()


def _line_ends(text: str, end: int) -> bool:
    """True when only blanks or punctuation follow ``end`` on its line."""
    newline = text.find("\n", end)
    rest = text[end : len(text) if newline == -1 else newline]
    return rest.strip(" \t\r.,;") == ""


class NameFinder:
    """Finds PERSON spans with the given lexicons; holds only immutable data."""

    def __init__(self, lexicons: Lexicons) -> None:
        self._lex = lexicons
        # Tokens outside this set (and not upper-case, hyphenated or before an upper-case word)
        # cannot start a lexicon name: most capitalised words are skipped after one lookup.
        self._lexicon_words = lexicons.first_names | lexicons.surnames
        self._starters = self._lexicon_words | _TITLES | _FIELD_WORDS

    def _first_name(self, token: _Token) -> bool:
        first_names = self._lex.first_names
        if token.lower in first_names:
            return True
        parts = token.lower.split("-")
        return len(parts) > 1 and all(part in first_names for part in parts)

    def _blocks_chain(self, token: _Token) -> bool:
        lex = self._lex
        if token.lower in lex.common_words or token.lower in _TITLES:
            return True
        return _is_upper(token) and token.lower in lex.acronyms

    def _chain(self, text: str, tokens: list[_Token], i: int) -> int:
        """Index of the last token of the name starting at ``tokens[i]`` (at most 4 tokens)."""
        j = i
        while j + 1 < len(tokens) and j - i < 3:
            current, nxt = tokens[j], tokens[j + 1]
            gap_ok = _GAP.fullmatch(text, current.end, nxt.start) is not None or (
                len(current.word) == 1 and _INITIAL_GAP.fullmatch(text, current.end, nxt.start)
            )
            if not gap_ok:
                break
            if self._blocks_chain(nxt):
                # Particles ("Le Bihan", "DA SILVA") are kept when a name follows them.
                if not self._particle_before_name(text, tokens, j + 1):
                    break
                j += 1
            j += 1
        return j

    def _particle_before_name(self, text: str, tokens: list[_Token], i: int) -> bool:
        """True when ``tokens[i]`` is a particle directly followed by a name-shaped token."""
        if tokens[i].lower not in _PARTICLES or i + 1 >= len(tokens):
            return False
        after = tokens[i + 1]
        gap_ok = _GAP.fullmatch(text, tokens[i].end, after.start) is not None
        return gap_ok and not self._blocks_chain(after)

    def _name_start(self, text: str, tokens: list[_Token], i: int) -> int:
        """``i`` if a name can start at ``tokens[i]`` after a title or a field, else -1."""
        if i >= len(tokens):
            return -1
        if not self._blocks_chain(tokens[i]) or self._particle_before_name(text, tokens, i):
            return i
        return -1

    def _lexicon_guarded(self, text: str, start: int, end: int, chain: list[_Token]) -> bool:
        """True when a lexicon-only name is really an eponym, a place or an institution."""
        if any(
            token.lower in self._lex.eponyms
            or any(part in self._lex.eponyms for part in token.lower.split("-"))
            for token in chain
        ):
            return True
        window = text[max(0, start - 60) : start]
        if _EPONYM_HEAD.search(window) or _PLACE_HEAD.search(window):
            return True
        return _ENGLISH_EPONYM_TAIL.match(text, end) is not None

    def _name_upper(self, token: _Token) -> bool:
        """An upper-case word that could be a surname: two letters or more, not an acronym."""
        word = token.word
        return len(word) > 1 and word.isupper() and token.lower not in self._lex.acronyms

    def _may_start(self, tokens: list[_Token], i: int) -> bool:
        """Cheap filter before :meth:`_lexicon_start`: most capitalised words fail it at once."""
        token = tokens[i]
        if token.lower in self._lexicon_words or "-" in token.word:
            return True
        acronyms = self._lex.acronyms
        if token.word.isupper():
            return token.lower not in acronyms
        if i + 1 < len(tokens):
            nxt = tokens[i + 1]
            return nxt.word.isupper() and nxt.lower not in acronyms
        return False

    def _lexicon_start(self, text: str, tokens: list[_Token], i: int) -> bool:
        """True when lexicon evidence says a name starts at ``tokens[i]``."""
        lex = self._lex
        token = tokens[i]
        if token.lower in lex.common_words:
            return False
        upper = _is_upper(token)
        if upper and token.lower in lex.acronyms:
            return False
        following = i + 1
        # "Djibril DE KERGUELEN": look past a particle to the name it introduces.
        if following + 1 < len(tokens) and self._particle_before_name(text, tokens, following):
            following += 1
        nxt = tokens[following] if following < len(tokens) else None
        adjacent = nxt is not None and (
            _GAP.fullmatch(text, token.end, tokens[i + 1].start) is not None
        )
        pair = adjacent and nxt is not None and not self._blocks_chain(nxt)
        if self._first_name(token):
            if pair:
                return True
            # Alone, an all-caps first name is more often an acronym ("EVA 6/10"), and one that
            # is also a town ("Antony, le 2 mars") more often the town.
            return (
                not upper
                and token.lower not in lex.ambiguous_first_names
                and token.lower not in lex.cities
                and len(token.word) >= 3
            )
        if pair and nxt is not None and len(token.word) >= 3 and len(nxt.word) >= 3:
            # "DUPONT Marie" / "Marie DUPONT": the administrative convention, with or without
            # the lexicons, once acronyms and common words are ruled out.
            if upper and not nxt.word.isupper() and nxt.word.isalpha():
                return True
            if not upper and nxt.word.isupper() and token.word.replace("-", "").isalpha():
                return True
        if upper:
            return len(token.word) >= 3 and token.lower in lex.surnames
        return False

    def find(self, text: str) -> Iterator[Span]:
        """PERSON spans, in text order, not overlapping one another."""
        # tuple.__new__ skips the NamedTuple constructor's Python-level argument handling,
        # which otherwise costs as much as the scan itself.
        tokens: list[_Token] = [
            _new_tuple(_Token, (m.start(), m.end(), word, word.lower()))
            for m in _TOKEN.finditer(text)
            for word in (m.group(),)
        ]
        lowered = text.lower()
        sign_offs = (
            {m.end() for m in _SIGN_OFF.finditer(text)}
            if any(word in lowered for word in _SIGN_OFF_WORDS)
            else set[int]()
        )
        starters = self._starters
        i = 0
        count = len(tokens)
        while i < count:
            token = tokens[i]
            # Fast path: most capitalised words are none of the things a name can start with.
            if (
                token.lower not in starters
                and token.start not in sign_offs
                and "-" not in token.word
                and not self._name_upper(token)
                and not (i + 1 < count and self._name_upper(tokens[i + 1]))
            ):
                i += 1
                continue
            start_index = -1
            guarded = False
            name_start = -1
            if token.lower in _TITLES and i + 1 < count:
                nxt = tokens[i + 1]
                dot = text.startswith(".", token.end)
                gap = _GAP.fullmatch(text, token.end + dot, nxt.start)
                # "M" is a title only with its dot or before an upper-case surname.
                if gap is not None and (token.lower != "m" or dot or nxt.word.isupper()):
                    start_index = self._name_start(text, tokens, i + 1)
                    particle = gap.group().strip()
                    if start_index >= 0 and particle:
                        name_start = gap.start() + gap.group().index(particle)
            elif (token.lower in _FIELD_WORDS and i + 1 < count) or token.start in sign_offs:
                if token.start in sign_offs:
                    start_index = self._name_start(text, tokens, i)
                else:
                    tail = _FIELD_TAIL.match(text, token.end)
                    if tail is not None and tail.end() == tokens[i + 1].start:
                        # "Patient : M. DUPONT" names the person after the title.
                        skip = 2 if tokens[i + 1].lower in _TITLES else 1
                        start_index = self._name_start(text, tokens, i + skip)
            elif self._may_start(tokens, i) and self._lexicon_start(text, tokens, i):
                start_index = i
                guarded = True
            if start_index < 0:
                i += 1
                continue
            last = self._chain(text, tokens, start_index)
            start, end = tokens[start_index].start, tokens[last].end
            if name_start >= 0:
                start = name_start
            if start_index == i and token.start in sign_offs and not _line_ends(text, end):
                i = last + 1
                continue
            if guarded and self._lexicon_guarded(text, start, end, tokens[start_index : last + 1]):
                i = last + 1
                continue
            yield Span(start, end, _PERSON)
            i = last + 1
