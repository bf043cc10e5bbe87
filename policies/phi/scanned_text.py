"""A text with the derived forms several finders search: computed once per detection.

``lowered`` lets keyword searches use fast case-sensitive literals; ``shape`` answers "does
the text contain five digits in a row?"-style questions at C speed, so that a finder can skip
a whole regex pass over text that cannot hold what it looks for.
"""

from __future__ import annotations

import re
from functools import cache
from typing import NamedTuple

# The first byte of the UTF-8 form of every decimal digit beyond ASCII (Arabic-Indic from
# U+0660 on, Devanagari, fullwidth...): a text with none of them has no digit but 0-9.
_NON_ASCII_DIGIT_LEADS = b"\xd9\xdb\xdf\xe0\xe1\xea\xef\xf0"

# UTF-8 bytes mapped to their class: ASCII digits to "0", ASCII capitals to "A", the lead bytes
# above to "d" (so that one memchr tells whether a text may hold other digits), everything else
# (other ASCII, other bytes of multi-byte characters) to ".".
_SHAPE = bytes(
    ord("0") if 48 <= b <= 57
    else ord("A") if 65 <= b <= 90
    else ord("d") if b in _NON_ASCII_DIGIT_LEADS
    else ord(".")
    for b in range(256)
)  # fmt: skip

# Five or more ASCII digits in the shape: a literal prefix, so found at memchr speed.
_DIGIT_RUN = re.compile(rb"00000+")


class ScannedText(NamedTuple):
    """``text`` and its derived forms; build with :meth:`of`.

    A named tuple: built once per detection, and a frozen dataclass's field-by-field
    initialisation alone cost several microseconds, the price of scanning a short prompt.
    """

    text: str
    lowered: str
    """``text.lower()``."""
    aligned: bool
    """True when ``lowered`` has the same length as ``text``, so offsets line up (lowering
    changes the length only for a handful of code points, such as "İ")."""
    encoded: bytes
    """``text`` in UTF-8 (lone surrogates passed through)."""
    shape: bytes
    """The class of each byte of ``encoded`` (see ``_SHAPE``)."""
    ascii_digits: bool
    """True when every decimal digit of ``text`` (what ``\\d`` matches) is one of 0-9, so
    that regexes may spell ``\\d`` as the cheaper ``[0-9]``."""
    has_digits: bool
    """True when ``text`` holds a decimal digit: finders of numbers need one to start."""

    @classmethod
    def of(cls, text: str, encoded: bytes | None = None) -> ScannedText:
        """``encoded``: ``text`` in UTF-8 (lone surrogates passed through), if already known."""
        lowered = text.lower()
        if encoded is None:
            encoded = text.encode("utf-8", "surrogatepass")
        shape = encoded.translate(_SHAPE)
        ascii_digits = b"d" not in shape
        has_digits = not ascii_digits or b"0" in shape
        aligned = len(lowered) == len(text)
        return cls(text, lowered, aligned, encoded, shape, ascii_digits, has_digits)

    def has_ascii_digits(self, count: int) -> bool:
        """True when ``text`` holds ``count`` ASCII digits in a row."""
        return b"0" * count in self.shape

    def has_shape(self, shape: bytes) -> bool:
        """True when some run of ASCII characters of ``text`` has this ``shape``."""
        return shape in self.shape

    def long_digit_run_ends(self, digits: int = 5, within: int = 5) -> list[int]:
        """Offsets in ``text`` just after each run of five or more ASCII digits, in order,
        keeping only the runs whose last ``within`` UTF-8 bytes hold ``digits`` ASCII digits.

        A number of ``digits`` ASCII digits and blanks fits in ``within`` bytes: the byte test
        drops the runs that cannot end one before their offsets are converted.
        """
        shape = self.shape
        ends = [match.end() for match in _DIGIT_RUN.finditer(shape)]
        if digits > 5:
            ends = [end for end in ends if shape.count(b"0", max(0, end - within), end) >= digits]
        return self._char_offsets(ends) if ends else ends

    def shape_starts(self, shape: bytes) -> list[int]:
        """Offsets in ``text`` where a run of ASCII characters of this ``shape`` starts, in
        order (overlapping runs included)."""
        found: list[int] = []
        at = self.shape.find(shape)
        while at != -1:
            found.append(at)
            at = self.shape.find(shape, at + 1)
        return self._char_offsets(found) if found else found

    def unglued_shape_starts(self, shape: bytes) -> list[int]:
        """The offsets of :meth:`shape_starts` whose run does not follow an ASCII capital or
        digit: where a word of this shape can start."""
        if shape not in self.shape:
            return []
        found = [m.start() for m in _unglued(shape).finditer(self.shape)]
        return self._char_offsets(found) if found else found

    def _char_offsets(self, byte_offsets: list[int]) -> list[int]:
        """``text`` offsets of sorted ``encoded`` offsets that fall on character boundaries
        (as any offset next to an ASCII character does), decoding the bytes between
        consecutive ones: one pass over the text in all."""
        if self.text.isascii():
            return byte_offsets
        offsets: list[int] = []
        chars = previous = 0
        for offset in byte_offsets:
            chars += len(self.encoded[previous:offset].decode("utf-8", "surrogatepass"))
            offsets.append(chars)
            previous = offset
        return offsets


@cache
def _unglued(shape: bytes) -> re.Pattern[bytes]:
    """``shape`` where it does not follow an ASCII capital or digit. The literal comes first,
    so that the regex engine finds it at memchr speed."""
    literal = re.escape(shape)
    return re.compile(literal + b"(?<![A0]" + literal + b")")
