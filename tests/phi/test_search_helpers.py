"""The search helpers behind the detector's speed give the same answers as the plain regexes."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.phi.caseless import caseless_alternation, first_letter_guard
from policies.phi.keyword_search import keyword_matches
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
