"""The detector's normalised view: odd typography is read plainly, spans come back exactly."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from policies.phi import PhiDetector
from policies.phi.normalise import _SPECIAL, may_hold_special, normalise

NBSP, NARROW_NBSP, THIN, ZERO_WIDTH, SOFT_HYPHEN, WORD_JOINER = (
    "\u00a0", "\u202f", "\u2009", "\u200b", "\u00ad", "\u2060"
)  # fmt: skip
FULLWIDTH = {ord("0") + d: 0xFF10 + d for d in range(10)}  # 0-9 -> U+FF10-U+FF19
CYRILLIC_ER = "\u0420"  # drawn like a Latin P

# Plain letters and digits, every kind of character the view changes, and accents it keeps.
ALPHABET = [
    "a", "e", "I", "P", "1", "7", " ", "é", "-",
    NBSP, NARROW_NBSP, THIN, ZERO_WIDTH, SOFT_HYPHEN, WORD_JOINER, "\u200e",
    "\uff15", "\u0663", "\U0001d7cf", CYRILLIC_ER, "\u0391", "\u0301", "\ufb01", "\uff21",
]  # fmt: skip

detector = PhiDetector()


def test_plain_and_accented_text_is_passed_through_without_a_map() -> None:
    for text in ("IPP 12345678", "née le 12/03/1956, œdème, m² et µg", ""):
        view = normalise(text)
        assert view.text == text and not view.changed


def test_odd_spaces_invisibles_digits_and_lookalikes_read_plainly() -> None:
    text = f"I{CYRILLIC_ER}{CYRILLIC_ER}{NBSP}1234{ZERO_WIDTH}5678{NARROW_NBSP}e\u0301"
    assert normalise(text).text == "IPP 12345678 é"
    assert normalise("\uff11\uff12\U0001d7cf\u0663").text == "1213"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(ALPHABET), max_size=40).map("".join), st.data())
def test_every_normalised_span_maps_back_to_the_characters_that_made_it(
    text: str, data: st.DataObject
) -> None:
    view = normalise(text)
    assert normalise(view.text).text == view.text  # idempotent
    if not view.text:
        return
    start = data.draw(st.integers(0, len(view.text) - 1))
    end = data.draw(st.integers(start + 1, len(view.text)))
    original_start, original_end = view.original_start(start), view.original_end(end)
    assert 0 <= original_start < original_end <= len(text)
    # The original characters behind the span read as (at least) the span once normalised.
    assert view.text[start:end] in normalise(text[original_start:original_end]).text
    # Offsets only move forward.
    starts = [view.original_start(i) for i in range(len(view.text))]
    assert starts == sorted(starts)


@settings(max_examples=100, deadline=None)
@given(
    st.text("0123456789", min_size=8, max_size=8),
    st.lists(st.sampled_from([ZERO_WIDTH, SOFT_HYPHEN, WORD_JOINER, ""]), max_size=3),
    st.booleans(),
    st.sampled_from([NBSP, NARROW_NBSP, THIN, " "]),
)
def test_an_ipp_in_any_typography_is_found_at_its_original_place(
    digits: str, separators: list[str], fullwidth: bool, space: str
) -> None:
    number = digits.translate(FULLWIDTH) if fullwidth else digits
    for position, separator in zip((2, 4, 6), separators, strict=False):
        number = number[:position] + separator + number[position:]
    text = f"Patiente vue ce jour, IPP{space}{number} ; à revoir."
    [span] = [s for s in detector.detect(text) if s.type == "IPP"]
    assert normalise(text[span.start : span.end]).text.replace(" ", "") == digits


FRENCH = "« Née le 12/03, œdème \u2019 \u2013 \u2026 µg »"


def test_the_utf8_screen_passes_over_no_character_the_view_changes() -> None:
    # Every character the view changes (its class, searched in a string of every code point),
    # alone and after the typography of French text that shares lead bytes with them
    # (guillemets, apostrophes, dashes): the screen may let a text through to the full
    # search, never skip one.
    every = "".join(chr(code) for code in range(0x80, 0x110000) if not 0xD800 <= code < 0xE000)
    changed = _SPECIAL.findall(every)
    assert len(changed) > 900
    for char in changed:
        assert may_hold_special(char.encode())
        assert may_hold_special(f"« \u2019 \u2013 {char} »".encode())
    assert not may_hold_special(FRENCH.encode())
    assert not normalise(FRENCH).changed


def test_an_unchanged_view_hands_on_the_utf8_form_it_computed() -> None:
    for text in (FRENCH, "\u03bb\u03b3\u03b4 sans sosie latin", "\ud800 isolé"):
        view = normalise(text)
        assert not view.changed
        assert view.encoded == text.encode("utf-8", "surrogatepass")
