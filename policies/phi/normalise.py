"""A typographically normalised view of a text, with the way back to the original offsets.

Identifiers are written with no-break, narrow no-break or thin spaces, hidden zero-width
characters, fullwidth or other non-ASCII digits, or keywords spelt with Cyrillic/Greek letters
that look Latin. The finders look for ASCII digits, plain spaces and Latin keywords, so detection
runs on this view and its spans are mapped back onto the text as it was written.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from typing import Any, NamedTuple

from policies.spans import Span

# Removed: zero-width space/non-joiner/joiner, word joiner, invisible operators, BOM, soft
# hyphen, Mongolian vowel separator, bidirectional controls: "1\u200b2" reads "12".
_INVISIBLE = "\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
# Every space and separator beyond ASCII's: each reads as one plain space.
_SPACES = "\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"

# Cyrillic and Greek letters drawn like Latin ones (code point -> Latin letter): "IPP" spelt
# with a Cyrillic Er must still read "IPP".
_CONFUSABLE: dict[str, str] = {
    chr(code): latin
    for code, latin in {
        0x0410: "A",
        0x0391: "A",
        0x0412: "B",
        0x0392: "B",
        0x0421: "C",
        0x0415: "E",
        0x0395: "E",
        0x041D: "H",
        0x0397: "H",
        0x0406: "I",
        0x0399: "I",
        0x0408: "J",
        0x041A: "K",
        0x039A: "K",
        0x041C: "M",
        0x039C: "M",
        0x039D: "N",
        0x041E: "O",
        0x039F: "O",
        0x0420: "P",
        0x03A1: "P",
        0x0405: "S",
        0x0422: "T",
        0x03A4: "T",
        0x0425: "X",
        0x03A7: "X",
        0x0423: "Y",
        0x03A5: "Y",
        0x0396: "Z",
        0x0430: "a",
        0x03B1: "a",
        0x0441: "c",
        0x0501: "d",
        0x0435: "e",
        0x04BB: "h",
        0x0456: "i",
        0x03B9: "i",
        0x0458: "j",
        0x03BA: "k",
        0x04CF: "l",
        0x043E: "o",
        0x03BF: "o",
        0x0440: "p",
        0x03C1: "p",
        0x051B: "q",
        0x0455: "s",
        0x03C4: "t",
        0x03C5: "u",
        0x03BD: "v",
        0x051D: "w",
        0x0445: "x",
        0x03C7: "x",
        0x0443: "y",
    }.items()
}

# Every decimal digit beyond 0-9 (Unicode 14 "Nd", from ``unicodedata.decimal``): fullwidth,
# Arabic-Indic, Devanagari, mathematical…
_DIGITS = (
    "\u0660-\u0669\u06f0-\u06f9\u07c0-\u07c9\u0966-\u096f\u09e6-\u09ef\u0a66-\u0a6f\u0ae6-\u0aef"
    "\u0b66-\u0b6f\u0be6-\u0bef\u0c66-\u0c6f\u0ce6-\u0cef\u0d66-\u0d6f\u0de6-\u0def\u0e50-\u0e59"
    "\u0ed0-\u0ed9\u0f20-\u0f29\u1040-\u1049\u1090-\u1099\u17e0-\u17e9\u1810-\u1819\u1946-\u194f"
    "\u19d0-\u19d9\u1a80-\u1a89\u1a90-\u1a99\u1b50-\u1b59\u1bb0-\u1bb9\u1c40-\u1c49\u1c50-\u1c59"
    "\ua620-\ua629\ua8d0-\ua8d9\ua900-\ua909\ua9d0-\ua9d9\ua9f0-\ua9f9\uaa50-\uaa59\uabf0-\uabf9"
    "\uff10-\uff19\U000104a0-\U000104a9\U00010d30-\U00010d39\U00011066-\U0001106f"
    "\U000110f0-\U000110f9\U00011136-\U0001113f\U000111d0-\U000111d9\U000112f0-\U000112f9"
    "\U00011450-\U00011459\U000114d0-\U000114d9\U00011650-\U00011659\U000116c0-\U000116c9"
    "\U00011730-\U00011739\U000118e0-\U000118e9\U00011950-\U00011959\U00011c50-\U00011c59"
    "\U00011d50-\U00011d59\U00011da0-\U00011da9\U00016a60-\U00016a69\U00016ac0-\U00016ac9"
    "\U00016b50-\U00016b59\U0001d7ce-\U0001d7ff\U0001e140-\U0001e149\U0001e2f0-\U0001e2f9"
    "\U0001e950-\U0001e959\U0001fbf0-\U0001fbf9"
)

# A character this module changes. One character class, so that text with none of them (the
# usual French prose, accents included) is passed through after a single C-speed search.
# Besides the sets above: fullwidth ASCII forms and Latin ligatures (NFKC gives their ASCII
# letters) and combining accents (composed with the letter before them).
_ASTRAL = _DIGITS.index(chr(0x104A0))  # the first digit range beyond U+FFFF
_BMP_SPECIALS = (
    _INVISIBLE
    + _SPACES
    + "".join(_CONFUSABLE)
    + _DIGITS[:_ASTRAL]
    + "\uff01-\uff5e\ufb00-\ufb06\u0300-\u036f"
)
_SPECIAL_BMP = re.compile(f"[{_BMP_SPECIALS}]")
# With the digits beyond the BMP (mathematical digits…): a class with astral ranges is searched
# ten times slower, so it is only used on text that holds an astral character.
_SPECIAL = re.compile(f"[{_BMP_SPECIALS}{_DIGITS[_ASTRAL:]}]")


def _class_members(spec: str) -> list[str]:
    """The characters of a class body written as above: characters and ``a-b`` ranges."""
    members: list[str] = []
    at = 0
    while at < len(spec):
        if at + 2 < len(spec) and spec[at + 1] == "-":
            members.extend(map(chr, range(ord(spec[at]), ord(spec[at + 2]) + 1)))
            at += 3
        else:
            members.append(spec[at])
            at += 1
    return members


def _utf8_alternation(chars: list[str]) -> bytes:
    """A bytes regex matching the UTF-8 form of any of ``chars``: a trie on their bytes."""
    trie: dict[int, Any] = {}
    for char in chars:
        node = trie
        for byte in char.encode("utf-8"):
            node = node.setdefault(byte, {})

    def emit(node: dict[int, Any]) -> bytes:
        branches = [bytes([byte]) + emit(child) for byte, child in sorted(node.items()) if child]
        leaves = bytes(sorted(byte for byte, child in node.items() if not child))
        if leaves:
            branches.append(b"[" + b"".join(re.escape(bytes([byte])) for byte in leaves) + b"]")
        return branches[0] if len(branches) == 1 else b"(?:" + b"|".join(branches) + b")"

    return emit(trie)


# A screen on the UTF-8 form that most texts pass at C speed, where the character class above
# is tested character by character. The lead byte of every changed character...
_SPECIAL_CHARS = _class_members(_BMP_SPECIALS + _DIGITS[_ASTRAL:])
_LEAD_BYTES = frozenset(char.encode("utf-8")[0] for char in _SPECIAL_CHARS)
_NOT_LEAD_BYTES = bytes(byte for byte in range(256) if byte not in _LEAD_BYTES)
# ... but French typography writes these two too (guillemets, degree, micro, typographic
# apostrophes and dashes all lead with them): where
# they are the only ones, the text is searched for the few changed characters they lead, as
# bytes regexes with a one-byte literal prefix, which the engine skips to with a tight loop.
_COMMON_LEADS = b"\xc2\xe2"
_COMMON_LEAD_SPECIALS = tuple(
    re.compile(_utf8_alternation([c for c in _SPECIAL_CHARS if c.encode("utf-8")[0] == lead]))
    for lead in _COMMON_LEADS
)


def may_hold_special(encoded: bytes) -> bool:
    """False when the UTF-8 ``encoded`` text holds none of the characters this module
    changes; True when it may."""
    leads = encoded.translate(None, _NOT_LEAD_BYTES)
    if not leads:
        return False
    if leads.translate(None, _COMMON_LEADS):
        return True
    return any(special.search(encoded) for special in _COMMON_LEAD_SPECIALS)


_REMOVED = re.compile(f"[{_INVISIBLE}]")
_SPACE = re.compile(f"[{_SPACES}]")


class _Change(NamedTuple):
    """Normalised characters ``[norm_start, norm_end)`` come from original ``[start, end)``;
    between changes, the two texts are equal and offsets differ by a constant."""

    norm_start: int
    norm_end: int
    start: int
    end: int


class NormalisedText(NamedTuple):
    """``text`` as the detector reads it, and the changes that lead back to the original
    (empty when the text was left as it is)."""

    text: str
    changes: tuple[_Change, ...] = ()
    encoded: bytes | None = None
    """``text`` in UTF-8 (lone surrogates passed through) when it was computed, for the
    detector's own use of it."""

    @property
    def changed(self) -> bool:
        """True when :attr:`text` differs from the original."""
        return bool(self.changes)

    def original_start(self, offset: int) -> int:
        """The original offset of the character at normalised ``offset``."""
        return _original_start(self.changes, self._norm_starts(), offset)

    def original_end(self, offset: int) -> int:
        """The original (exclusive) end of a span ending at normalised ``offset`` (> 0)."""
        return _original_end(self.changes, self._norm_starts(), offset)

    def original_spans(self, spans: list[Span]) -> list[Span]:
        """``spans`` of :attr:`text` as spans of the original text (same order and types).

        Guarantee: a span covers every original character that produced its characters,
        invisible characters between them included.
        """
        if not self.changes:
            return spans
        # Built once for all spans, and the two offsets mapped inline (as _original_start and
        # _original_end do): a long record holds thousands of spans.
        changes, norm_starts = self.changes, self._norm_starts()
        bisect_right = bisect.bisect_right
        mapped: list[Span] = []
        for start, end, kind in spans:
            if end <= start:
                continue
            at = bisect_right(norm_starts, start)
            if at:
                change = changes[at - 1]
                start = (
                    change.start
                    if start < change.norm_end
                    else change.end + start - change.norm_end
                )
            at = bisect_right(norm_starts, end - 1)
            if at:
                change = changes[at - 1]
                end = change.end + max(0, end - change.norm_end)
            mapped.append(Span(start, end, kind))
        return mapped

    def _norm_starts(self) -> list[int]:
        return [change.norm_start for change in self.changes]


def _original_start(changes: tuple[_Change, ...], norm_starts: list[int], offset: int) -> int:
    at = bisect.bisect_right(norm_starts, offset)
    if not at:
        return offset
    change = changes[at - 1]
    if offset < change.norm_end:
        return change.start
    return change.end + offset - change.norm_end


def _original_end(changes: tuple[_Change, ...], norm_starts: list[int], offset: int) -> int:
    at = bisect.bisect_right(norm_starts, offset - 1)
    if not at:
        return offset
    change = changes[at - 1]
    if offset - 1 < change.norm_end:
        return change.end
    return change.end + offset - change.norm_end


def normalise(text: str) -> NormalisedText:
    """The view of ``text`` the detector scans (see the module docstring).

    Fast path: ASCII text, and text with none of the characters above (accented French
    included), is returned as it is, with no change to map.
    """
    if text.isascii():
        return NormalisedText(text)
    encoded = text.encode("utf-8", "surrogatepass")
    if not may_hold_special(encoded):
        return NormalisedText(text, encoded=encoded)
    # The astral digits (U+104A0-U+1FBF9) are four UTF-8 bytes starting with 0xF0.
    special = _SPECIAL if b"\xf0" in encoded else _SPECIAL_BMP
    first = special.search(text)
    if first is None:
        return NormalisedText(text, encoded=encoded)
    out: list[str] = []
    changes: list[_Change] = []
    length = 0  # of the normalised text so far
    position = 0  # in the original text
    for match in special.finditer(text, first.start()):
        index = match.start()
        if index > position:
            out.append(text[position:index])
            length += index - position
        position = index + 1
        char = match.group()
        if unicodedata.combining(char) and _composed(out, changes, length, char, position):
            continue
        piece = _normalised_char(char)
        out.append(piece)
        changes.append(_Change(length, length + len(piece), index, position))
        length += len(piece)
    out.append(text[position:])
    return NormalisedText("".join(out), tuple(changes))


def _composed(
    out: list[str], changes: list[_Change], length: int, mark: str, position: int
) -> bool:
    """Compose the combining ``mark`` (ending at original ``position``) with the last letter
    written, invisible characters between them ignored: "e" + U+0301 reads "é", the original
    characters behind it all. False when they do not compose."""
    while out and not out[-1]:
        out.pop()  # the empty pieces of removed characters
    if not out:
        return False
    composed = unicodedata.normalize("NFC", out[-1][-1] + mark)
    if len(composed) != 1:
        return False
    out[-1] = out[-1][:-1] + composed
    while changes and changes[-1].norm_start == changes[-1].norm_end == length:
        changes.pop()  # removals between the letter and the mark: now inside the letter
    if changes and changes[-1].norm_end == length:  # the letter itself came from a change
        changes.append(changes.pop()._replace(end=position))
        return True
    # An unchanged letter: its original offset follows from the last change before it.
    last = changes[-1] if changes else None
    start = length - 1 if last is None else last.end + (length - 1 - last.norm_end)
    changes.append(_Change(length - 1, length, start, position))
    return True


def _normalised_char(char: str) -> str:
    if _REMOVED.match(char):
        return ""
    if _SPACE.match(char):
        return " "
    confusable = _CONFUSABLE.get(char)
    if confusable is not None:
        return confusable
    digit = unicodedata.decimal(char, None)
    if digit is not None:
        return str(digit)
    return unicodedata.normalize("NFKC", char)
