"""WordHints answers from the keyword index as it would by searching the window itself."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from policies.phi.keyword_index import KeywordIndex
from policies.phi.word_hints import WordHints

HINTS = WordHints("test", words=("bip", "lot", "fax"), prefixes=("pharmaci", "astreinte"))
INDEX = KeywordIndex(HINTS.keyword_groups())
PIECES = ["bip", "lot", "lots", "fax", "pharmacie", "astreinte", "ballot", "(", " ", "\n", "-",
          "a", "x", "'", "24h/24", "poste", ",", ".", ":"]  # fmt: skip
LEADS = " \n\t('/-;"  # the characters a hint word may follow (word_hints._LEADS)


def test_whole_words_and_prefixes() -> None:
    assert HINTS.found_in("appeler le bip 4521")
    assert HINTS.found_in("la pharmacie centrale")
    assert not HINTS.found_in("un ballot de linge")
    assert not HINTS.found_in("les lots sont triés")


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(PIECES), max_size=12),
    st.integers(min_value=0, max_value=60),
    st.integers(min_value=0, max_value=60),
)
def test_found_between_agrees_with_searching_the_window(
    pieces: list[str], lo: int, hi: int
) -> None:
    text = "".join(pieces)
    lo, hi = sorted((min(lo, len(text)), min(hi, len(text))))
    # A window cut inside a word is answered with the text's own word boundaries, and so is
    # one opening just after ",", "." or ":", which are deliberately not leads (see word_hints).
    assume(lo in (0, len(text)) or text[lo - 1] in LEADS or not text[lo].isalnum())
    hits = INDEX.find(text)
    assert hits is not None
    assert HINTS.found_between(text, hits, lo, hi) == HINTS.found_in(text[lo:hi])
