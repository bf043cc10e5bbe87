"""The search helpers behind the detector's speed give the same answers as the plain regexes."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.phi.caseless import caseless_alternation, first_letter_guard
from policies.phi.dates import BIRTH_WORDS, date_kind
from policies.phi.keyword_index import KeywordIndex, starts
from policies.phi.keyword_search import keyword_matches, keyword_positions
from policies.phi.names import _GAP, SIGN_OFF_KEYWORDS, _sign_off_ends
from policies.phi.numeric_scanner import _SCANNER, scan_numbers
from policies.phi.scanned_text import ScannedText
from policies.phi.tokens import _TOKEN, tokenise

WORDS = ("rue", "route", "rte", "av.", "avenue", "allée", "cité", "impasse", "sq.")
# With the extra case folds of re.IGNORECASE: dotted/dotless i, long s, Kelvin sign.
ALPHABET = "ruteavn.lécismpqRUTEAVNLÉCISMPQ\u0130\u0131\u017f\u212a \n-'\u20190"


@given(st.text(alphabet=ALPHABET, max_size=30))
@settings(max_examples=300, deadline=None)
def test_caseless_alternation_matches_like_ignorecase(text: str) -> None:
    plain = re.compile("(?i:" + "|".join(map(re.escape, WORDS)) + ")")
    spelled = re.compile(caseless_alternation(WORDS))
    assert [m.span() for m in spelled.finditer(text)] == [m.span() for m in plain.finditer(text)]


def test_first_letter_guard_admits_every_case_fold() -> None:
    guard = re.compile(first_letter_guard("si"))
    assert all(guard.match(char) for char in "sS\u017fiI\u0130\u0131")
    assert guard.match("x") is None


@given(st.text(alphabet="finesrtvaioun.° 12", max_size=60))
@settings(max_examples=300, deadline=None)
def test_keyword_matches_equal_finditer(text: str) -> None:
    pattern = re.compile(r"finess|siret|siren|tva|n°\s*\d+")
    found = keyword_matches(pattern, text, ("finess", "siret", "siren", "tva", "n°"))
    assert [m.span() for m in found] == [m.span() for m in pattern.finditer(text)]


@pytest.mark.parametrize(
    "text",
    ["IPP 123456 et 98765", "Né à Besançon, IPP 1234567, tél 0612345678 — œuvre 12345", "", "1234"],
)
def test_digit_runs_and_shapes_are_text_offsets(text: str) -> None:
    scanned = ScannedText.of(text)
    assert scanned.long_digit_run_ends() == [m.end() for m in re.finditer(r"[0-9]{5,}", text)]
    heads = [m.start() for m in re.finditer(r"(?=[A-Z]{2}[0-9]{2})", text)]
    assert scanned.shape_starts(b"AA00") == heads
    assert scanned.has_ascii_digits(5) == bool(re.search(r"[0-9]{5}", text))


@given(st.text(alphabet="0123 é\n", max_size=50))
@settings(max_examples=300, deadline=None)
def test_digit_runs_filtered_by_digits_in_the_bytes_before(text: str) -> None:
    def digits_in_last_bytes(prefix: str, width: int) -> int:
        return sum(byte in b"0123456789" for byte in prefix.encode()[-width:])

    expected = [
        m.end()
        for m in re.finditer(r"[0-9]{5,}", text)
        if digits_in_last_bytes(text[: m.end()], 17) >= 14
    ]
    assert ScannedText.of(text).long_digit_run_ends(14, 17) == expected


@given(st.text(alphabet="Ab éÉ-'\u20191\nXY", max_size=40))
@settings(max_examples=200, deadline=None)
def test_tokens_are_the_token_matches(text: str) -> None:
    tokens = tokenise(text)
    matches = list(_TOKEN.finditer(text))
    assert tokens.starts == [m.start() for m in matches]
    assert tokens.ends == [m.end() for m in matches]
    assert tokens.words == [m.group() for m in matches]
    assert tokens.lowers == [m.group().lower() for m in matches]


KEYWORDS = ("né", "ne ", "naissance", "bien", "cordialement", "nda", "n°", "ipp")


@given(st.text(alphabet="néaiscobdrl p°N\nÉ\u017f\u0131\u212a\u0130", max_size=60))
@settings(max_examples=300, deadline=None)
def test_keyword_index_finds_what_str_find_finds(text: str) -> None:
    index = KeywordIndex({"a": KEYWORDS[:4], "b": KEYWORDS[3:]})
    hits = index.find(text)
    assert hits is not None
    assert starts(hits["a"]) == keyword_positions(text, KEYWORDS[:4])
    assert starts(hits["b"]) == keyword_positions(text, KEYWORDS[3:])
    assert all(text[begin:end] in KEYWORDS for begin, end in hits["a"] + hits["b"])


def test_keyword_index_declines_lone_surrogates() -> None:
    assert KeywordIndex({"a": ("ne",)}).find("ne \ud800") is None


@given(st.text(alphabet="Bien àvous\nCordialemt,MRS\u017f\u0131\u212a\t.", max_size=60))
@settings(max_examples=300, deadline=None)
def test_sign_offs_found_from_their_words_as_line_by_line(text: str) -> None:
    lowered = text.lower()
    if len(lowered) != len(text):
        return
    words = keyword_positions(lowered, SIGN_OFF_KEYWORDS)
    assert _sign_off_ends(text, words) == _sign_off_ends(text)


@given(st.text(alphabet="nées DdNbirth(:)lOo 1\u0130", max_size=60), st.integers(0, 60))
@settings(max_examples=300, deadline=None)
def test_date_kind_from_birth_word_offsets_as_from_the_window(text: str, start: int) -> None:
    lowered = text.lower()
    if len(lowered) != len(text) or start > len(text):
        return
    hits = KeywordIndex({"birth": BIRTH_WORDS}).find(lowered)
    assert hits is not None
    assert date_kind(text, start, hits["birth"]) == date_kind(text, start)


@given(st.text(alphabet="0123456789 /.-,:é\nmarsRueAB", max_size=60))
@settings(max_examples=300, deadline=None)
def test_ascii_digit_scanner_finds_what_the_unicode_one_finds(text: str) -> None:
    assert ScannedText.of(text).ascii_digits
    cities = frozenset({"paris"})
    assert list(scan_numbers(text, cities, ascii_digits=True)) == list(scan_numbers(text, cities))


@pytest.mark.parametrize("digit", ["\u0663", "\u0967", "\uff13", "\U0001d7d9", "\u07c3"])
def test_texts_with_other_digits_are_not_ascii_digits(digit: str) -> None:
    assert not ScannedText.of(f"né le 1{digit}/02/2020").ascii_digits
    assert ScannedText.of("né le 12/02/2020 \u2019 \u2013 é").ascii_digits


@given(st.text(alphabet="AZ09 éa_-\n", max_size=40))
@settings(max_examples=300, deadline=None)
def test_unglued_shape_starts_leave_out_runs_after_capitals_and_digits(text: str) -> None:
    expected = [m.start() for m in re.finditer(r"(?<![A-Z0-9])(?=[A-Z]{2}[0-9]{2})", text)]
    assert ScannedText.of(text).unglued_shape_starts(b"AA00") == expected


# The scanner spells optional words "(?:word|)" for speed; spelled "(?:word)?" (and the first
# English street word folded back into its repeat) it must find the same matches.
_OPTIONAL_SPELLINGS = (
    ("(?:er|)", "(?:er)?"),
    ("(?:st|nd|rd|th|)", "(?:st|nd|rd|th)?"),
    ("(?:of\\s++|)", "(?:of\\s++)?"),
    (
        "(?:[ ]?(?:bis|ter|quater|[A-Da-d])(?![\\w])|)",
        "(?:[ ]?(?:bis|ter|quater|[A-Da-d])(?![\\w]))?",
    ),
    (
        "[ \\t]++[A-Z][a-z]++[ \\t]++(?:[A-Z][a-z]++[ \\t]++){0,2}",
        "[ \\t]++(?:[A-Z][a-z]++[ \\t]++){1,3}",
    ),
)


def _plain_scanner() -> re.Pattern[str]:
    pattern = _SCANNER.pattern
    for fast, plain in _OPTIONAL_SPELLINGS:
        assert fast in pattern
        pattern = pattern.replace(fast, plain)
    return re.compile(pattern)


_PLAIN_SCANNER = _plain_scanner()


@given(
    st.lists(
        st.sampled_from(
            [
                "1",
                "12",
                "221",
                "3",
                "er",
                "rd",
                "of",
                " ",
                "\t",
                ",",
                "bis",
                "B",
                "b",
                "mars",
                "March",
                "2024",
                "rue",
                "Baker",
                "Street",
                "Old",
                "Kent",
                "Road",
                "de",
                "la",
                "Paix",
                "mg",
                "\n",
            ]
        ),
        max_size=14,
    ).map("".join)
)
@settings(max_examples=500, deadline=None)
def test_scanner_optional_words_match_as_plain_optional_groups(text: str) -> None:
    def found(pattern: re.Pattern[str]) -> list[tuple[tuple[int, int], str | None]]:
        return [(match.span(), match.lastgroup) for match in pattern.finditer(text)]

    assert found(_SCANNER) == found(_PLAIN_SCANNER)


@given(st.text(alphabet="ab de la du d'\u2019 \tX", max_size=12))
@settings(max_examples=300, deadline=None)
def test_name_gap_matches_as_a_plain_optional_particle(text: str) -> None:
    plain = re.compile(_GAP.pattern.removesuffix("|)") + ")?")
    assert (_GAP.fullmatch(text) is None) == (plain.fullmatch(text) is None)
