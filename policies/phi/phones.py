"""French telephone numbers: 0X XX XX XX XX (spaces, dots, dashes or nothing) and +33 / 0033."""

from __future__ import annotations

import re
from collections.abc import Iterator

from policies.spans import Span

from .kinds import PhiKind

_INTERNATIONAL = r" ?33 ?(?:\(0\) ?)?[1-9](?P<{0}>[ .\-]?)\d\d(?:(?P={0})\d\d){{3}}"
# Not the first ten digits of a longer spaced number.
_END = r"(?![\w]|[ .\-]\d\d(?!\d))"
# What follows a leading "0" in the numeric scanner: the national form, with the same separator
# between all five pairs (so "03.03.2024 10h" is never a number), or the "0033" prefix.
PHONE_AFTER_ZERO = (
    r"(?<=0)(?:[1-9](?P<phone_sep>[ .\-]?)\d\d(?:(?P=phone_sep)\d\d){3}|0"
    + _INTERNATIONAL.format("phone_zsep")
    + ")"
    + _END
)
_PLUS = re.compile(r"\+(?<![\w+]\+)" + _INTERNATIONAL.format("sep") + _END)


def national_digits(number: str) -> str:
    """The ten national digits of a French number in any of the accepted forms ("0612345678")."""
    digits = "".join(char for char in number if char.isdigit())
    if digits.startswith("0033"):
        digits = "0" + digits[4:]
    elif number.lstrip().startswith("+") and digits.startswith("33"):
        digits = "0" + digits[2:]
    # "+33 (0)6 ..." leaves a doubled trunk zero behind.
    if len(digits) == 11 and digits.startswith("00"):
        digits = digits[1:]
    return digits


def find_plus_phones(text: str) -> Iterator[Span]:
    """Spans of "+33 ..." numbers (the "0..." forms come from the numeric scanner)."""
    if "+" not in text:
        return
    for match in _PLUS.finditer(text):
        yield Span(match.start(), match.end(), PhiKind.PHONE.value)
