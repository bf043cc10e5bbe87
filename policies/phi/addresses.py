"""Postal addresses (ADDRESS), postcodes in an address context (ZIP) and cities (CITY)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from policies.spans import Span

from .caseless import caseless_alternation, first_letter_guard
from .keyword_search import keyword_positions, matches_at
from .kinds import PhiKind

# Street types, as a case-insensitive alternation (see caseless.py for why it is spelled out).
_VOIES = caseless_alternation(
    ("rue", "avenue", "av.", "bd", "boulevard", "bld", "chemin", "ch.", "allée", "allee",
     "impasse", "imp.", "place", "pl.", "quai", "route", "rte", "cours", "square", "sq.",
     "résidence", "residence", "lotissement", "voie", "sentier", "passage", "cité", "cite",
     "faubourg", "fbg", "rond-point", "esplanade", "parvis", "hameau", "lieu-dit", "promenade",
     "montée", "montee", "chaussée", "chaussee", "ruelle", "venelle", "traverse", "domaine",
     "mail", "clos", "villa", "sente")
)  # fmt: skip
_CONNECTOR = r"(?:de|du|des|la|le|les|aux|au|en|sur|sous|et)"
# A capitalised word, a number ("rue du 8 Mai 1945"), or an elided article glued to a word;
# never a 5-digit postcode, which ends the street name.
_WORD = r"(?:(?!\d{5}(?!\w))[A-ZÀ-Þ0-9][\w'\u2019\-]*|[dlDL]['\u2019][\wÀ-ÿ][\w'\u2019\-]*)"
_STREET_NAME = rf"(?:[ \t]+(?:{_CONNECTOR}[ \t]+)*{_WORD}){{1,6}}"
# What follows the first digit of the house number in the numeric scanner. Possessive
# quantifiers (++, {0,3}+) where giving characters back could never help (the next item
# cannot match a digit, a letter or a blank in their place): failing numbers fail sooner.
# For the same reason "(?:bis...|)" stands for "(?:bis...)?" and the first of the 1-3 English
# street words is spelled out: the engine then rejects most numbers on one character test
# instead of setting up a repeat (see DAY_FIRST_AFTER_FIRST_DIGIT).
_FR_ADDRESS = (
    rf"\d{{0,3}}+(?:[ ]?(?:bis|ter|quater|[A-Da-d])(?![\w])|),?[ \t]++{_VOIES}(?![\w])"
    rf"{_STREET_NAME}"
)
_EN_ADDRESS = (
    r"\d{0,4}+[A-Z]?[ \t]++[A-Z][a-z]++[ \t]++(?:[A-Z][a-z]++[ \t]++){0,2}"
    r"(?:Street|St\.?|Road|Rd\.?|Avenue|Ave\.?|Lane|Ln\.?|Drive|Boulevard|Blvd\.?|Court|Ct\.?"
    r"|Way|Close|Crescent|Terrace|Gardens)(?![\w])"
)
# A street typed in lower case ("qui habite 12 rue des tanneurs a figeac"): only after the
# unambiguous street types ("1 place disponible", "1 voie veineuse" are no addresses), and never
# running into the next words of the sentence.
_LOWER_STREET_WORD = (
    r"(?!(?:a|à|au|aux|et|ou|qui|que|pour|par|avec|chez|dans|depuis|puis|mais|sur|est|sont"
    r"|patiente?|tel|tél|le|la|les|en)(?![\w'\u2019\-]))[a-zß-ÿ][a-zß-ÿ'\u2019\-]+"
)
_LOWER_FR_ADDRESS = (
    r"\d{0,3}+(?:[ ]?(?:bis|ter|quater|[a-d])(?![\w])|),?[ \t]++"
    r"(?:rue|avenue|boulevard|impasse|all[ée]e)[ \t]++"
    r"(?:(?:de|du|des|la|le|les)[ \t]++|[ld]['\u2019])*"
    rf"{_LOWER_STREET_WORD}"
    rf"(?:[ \t]++(?:(?:de|du|des|la|le|les)[ \t]++)?{_LOWER_STREET_WORD}){{0,2}}"
)
ADDRESS_AFTER_FIRST_DIGIT = rf"(?:{_FR_ADDRESS}|{_EN_ADDRESS}|{_LOWER_FR_ADDRESS})"

# Metropolitan and overseas postcodes, optionally followed by a city ("75012 PARIS CEDEX 12").
_CITY_WORDS = (
    r"[A-ZÀ-Þ][\w'\u2019]*(?:-[\w'\u2019]+)*(?:[ \t]+(?:-[ \t]+)?"
    r"(?:[Ss]ur|[Ee]n|[Ll]es|[Ll]e|[Ll]a|[Dd]e|[Dd]u|[A-ZÀ-Þ][\w'\u2019]*)(?:-[\w'\u2019]+)*){0,3}?"
    r"(?:[ \t]+CEDEX(?:[ \t]+\d{1,2})?)?"
)
ZIP_AFTER_FIRST_DIGIT = rf"\d{{4}}(?![\w]|[.,]\d)(?:[ \t]+(?P<zip_city>{_CITY_WORDS}))?"
_ZIP_KEYWORD = re.compile(
    first_letter_guard("cpz") + r"(?i:\bCP|code\s+postal|postcode|zip(?:\s+code)?)\s*[:.]?\s*\Z"
)
_NOT_ZIP = re.compile(
    first_letter_guard("lbnrcfsi")
    + r"(?i:\blot\b|\bbatch\b|\bn°|\bref\b|\bcip|\bfiness|\bsiret|\bipp|\bnda)\W*\Z"
)
# Words after five digits that make them a quantity, not a postcode.
_UNITS = frozenset(
    {"UI", "U", "UI/KG", "UI/J", "MG", "G", "ML", "L", "KCAL", "KG", "M", "MM", "MM3", "PLAQUETTES"}
)


_ZIP = PhiKind.ZIP.value
_CITY = PhiKind.CITY.value


def postcode_spans(
    match: re.Match[str], start: int, after_address: bool, cities: frozenset[str]
) -> list[Span]:
    """ZIP (and CITY) spans for a scanner postcode match starting at ``start``, or none.

    A postcode is taken when it follows an address (``after_address``), follows a
    "CP"/"code postal" keyword, or is followed by a city-like word that is not a unit.
    """
    text = match.string
    if text[start : start + 2] in {"00", "99"}:
        return []
    before = text[max(0, start - 24) : start]
    if _NOT_ZIP.search(before):
        return []
    city = match.group("zip_city")
    city_ok = city is not None and _city_like(city, cities)
    if not (city_ok or after_address or _ZIP_KEYWORD.search(before)):
        return []
    spans = [Span(start, start + 5, _ZIP)]
    if city_ok:
        spans.append(Span(match.start("zip_city"), match.end("zip_city"), _CITY))
    return spans


def _city_like(city: str, cities: frozenset[str]) -> bool:
    first = city.split()[0]
    if first.upper() in _UNITS or first.upper().rstrip("S") in _UNITS:
        return False
    if city.lower() in cities or first.lower() in cities:
        return True
    # An unknown name must at least look like one: a capital followed by letters.
    return len(first) >= 2 and first[1:].replace("-", "").replace("'", "").isalpha()


# A city from the lexicon counts only where residence or birth is described: one of these words
# (searched in lower-cased text), then within a few words "à"/"in"/":" and the city.
_CITY_CONTEXT = re.compile(
    # Each word opens a word: "président" holds no residence.
    r"(?<![^\W\d_])(?:domicil|habit|demeur|r[ée]sid|vit\b|vivant|install|h[ée]berg|née?\b|ne\(e\)|nee\b|originaire|lives?\b|living"
    r"|born\b|ville|city\b|commune|naissance|birth|adresse|address"
    # "Lieu : X" on a form, "a fall at home in X".
    r"|lieu(?=[ \t]*(?:de[ \t]+naissance|:))|home\b)"
)
# Every match of _CITY_CONTEXT starts with one of these (see keyword_search.py).
CITY_CONTEXT_KEYWORDS = (
    "domicil", "vivant", "install", "héberg", "heberg", "habit", "demeur", "rési", "resi",
    "vit", "né", "ne(e)", "nee", "originaire", "liv", "born", "ville", "city", "commune",
    "naissance", "birth", "adresse", "address", "lieu", "home",
)  # fmt: skip
_CITY_AFTER_LEAD = re.compile(
    r"(?:(?<![\w])(?P<lead>[àÀ]|in|at|de|d['\u2019])|:)[ \t]+"
    # Letters only: "à J3" is a day of care, not a commune.
    r"(?P<city>[A-ZÀ-Þ][^\W\d_'\u2019]*(?:['\u2019-][^\W\d_]+)*(?![\w])"
    r"(?:[ \t][A-ZÀ-Þ][^\W\d_'\u2019]*(?:['\u2019-][^\W\d_]+)*(?![\w]))?)"
)
_CITY_WINDOW = 60
_LOWER_CITY_AFTER_LEAD = re.compile(
    r"(?<![\w])(?:à|a|in)[ \t]+(?P<city>[a-zß-ÿ][a-zß-ÿ'\u2019\-]+(?:[ \t][a-zß-ÿ][a-zß-ÿ\-]+)?)"
)
# A form field whose value is a commune: "Lieu : X", "Ville de naissance : X".
_FIELD_BEFORE = re.compile(
    r"(?i:lieu|ville|commune|city|place[ \t]+of[ \t]+birth|birthplace)"
    r"(?:[ \t]+(?:de[ \t]+)?(?:naissance|r[ée]sidence))?[ \t]*\Z"
)
# A plural subject just before a residence word: patients, people, families, children.
_GROUP_SUBJECT = re.compile(
    # Literal-led (no leading boundary): the engine skips to an "l", "d", "a" or "t" at once.
    r"(?:les|des|aux|tous\s+les|toutes\s+les)\s+(?:patients|patientes|personnes|familles"
    r"|enfants|résidents|residents|usagers|malades)\b[^.;\n]{0,12}$"
)


def find_lexicon_cities(
    text: str,
    lowered: str,
    cities: frozenset[str],
    keyword_starts: list[int] | None = None,
    common_words: frozenset[str] = frozenset(),
) -> Iterator[Span]:
    """CITY spans for communes named where residence or birth is described: any lexicon
    commune, and after "à" any other capitalised word but ``common_words``.

    ``lowered`` is ``text.lower()``; ``keyword_starts``, where :data:`CITY_CONTEXT_KEYWORDS`
    occur in it, in order, if already known.
    """
    if keyword_starts is None:
        keyword_starts = keyword_positions(lowered, CITY_CONTEXT_KEYWORDS)
    if not keyword_starts:
        return
    # Only window bounds come from the lower-cased copy; if lowering moved offsets (rare code
    # points) the windows shift by a few characters, the spans themselves stay exact.
    windows: list[tuple[int, int]] = []
    for context in matches_at(_CITY_CONTEXT, lowered, keyword_starts):
        # "les patients résidant à X": a rule for many people names no one's commune.
        if _GROUP_SUBJECT.search(lowered, max(0, context.start() - 30), context.start()):
            continue
        begin, end = context.end(), min(len(text), context.end() + _CITY_WINDOW)
        if windows and begin <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((begin, end))
    for begin, end in windows:
        for match in _CITY_AFTER_LEAD.finditer(text, begin, end):
            words = match.group("city")
            start = match.start("city")
            # Two-word communes ("Le Havre") first, then the first word alone.
            if words.lower() in cities:
                yield Span(start, match.end("city"), _CITY)
            elif (first := words.split()[0]).lower() in cities:
                yield Span(start, start + len(first), _CITY)
            elif match.group("lead") in {"à", "À", "in"} or _FIELD_BEFORE.search(
                text, max(0, match.start() - 25), match.start()
            ):
                # "vivant seul à domicile à Loudéac", "Lieu : Figeac", "at home in Millau": the
                # lexicon cannot list every commune.
                if first.lower() not in common_words:
                    yield Span(start, start + len(first), _CITY)
                elif first in {"Le", "La", "Les"} and " " in words:
                    # "à La Roche-sur-Yon", "au Mans" is not covered: "au" is not a lead.
                    yield Span(start, match.end("city"), _CITY)
        # A prompt typed in lower case ("qui habite ... a figeac"): communes of the lexicon only.
        for match in _LOWER_CITY_AFTER_LEAD.finditer(text, begin, end):
            words, start = match.group("city"), match.start("city")
            if words in cities:
                yield Span(start, match.end("city"), _CITY)
            elif (first := words.split()[0]) in cities and first not in common_words:
                yield Span(start, start + len(first), _CITY)


# Capitalised words that follow "à" in a residence phrase without naming a commune.
NOT_CITY_WORDS = frozenset(
    {
        "domicile",
        "l'hôpital",
        "l'ehpad",
        "ehpad",
        "mme",
        "m",
        "mr",
        "dr",
        "pr",
        "jour",
        "j",
        "h",
        "partir",
        "noter",
        "prévoir",
        "revoir",
        "distance",
        "proximité",
        "proximite",
        "côté",
        "cote",
        "nouveau",
        "plusieurs",
        "chaque",
        "temps",
        "domicile.",
        "l'etranger",
        "l'étranger",
        "hôpital",
        "hopital",
        "clinique",
        "maison",
        "foyer",
        "résidence",
        "residence",
        "usld",
        "ssr",
        "has",
        "sa",
        "son",
        "ses",
        "leur",
        "leurs",
        "la",
        "le",
        "les",
    }
)
