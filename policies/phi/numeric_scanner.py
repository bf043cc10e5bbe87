"""One pass over the text's numbers for every digit-led identifier shape.

Running a separate regex per identifier costs a full scan each; one alternation anchored on a
digit (not glued to a preceding word) scans once. The shapes are tried from the most specific
(NIR, 15 digits) to the least (a bare postcode); each is then validated in Python.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from policies.spans import Span

from .addresses import ADDRESS_AFTER_FIRST_DIGIT, ZIP_AFTER_FIRST_DIGIT, postcode_spans
from .dates import (
    DAY_FIRST_AFTER_FIRST_DIGIT,
    DAY_MONTH_AFTER_FIRST_DIGIT,
    NUMERIC_DATE_AFTER_FIRST_DIGIT,
    YEAR_AFTER_FIRST_DIGIT,
    date_kind,
    day_first_ok,
    day_month_ok,
    french_month_year,
    numeric_date_ok,
)
from .kinds import PhiKind
from .nir import NIR_AFTER_FIRST_DIGIT, is_valid_nir
from .phones import PHONE_AFTER_ZERO
from .rpps import RPPS_AFTER_FIRST_DIGIT, is_rpps_in_context

_SCANNER = re.compile(
    r"\d(?<![\w.,/]\d)(?:"
    rf"(?P<nir>{NIR_AFTER_FIRST_DIGIT})"
    rf"|(?P<rpps>{RPPS_AFTER_FIRST_DIGIT})"
    rf"|(?P<phone>{PHONE_AFTER_ZERO})"
    rf"|(?P<date>{NUMERIC_DATE_AFTER_FIRST_DIGIT})"
    rf"|(?P<day_first>{DAY_FIRST_AFTER_FIRST_DIGIT})"
    rf"|(?P<day_month>{DAY_MONTH_AFTER_FIRST_DIGIT})"
    rf"|(?P<address>{ADDRESS_AFTER_FIRST_DIGIT})"
    rf"|(?P<zip>{ZIP_AFTER_FIRST_DIGIT})"
    rf"|(?P<year>{YEAR_AFTER_FIRST_DIGIT})"
    r")"
)

# The same scanner for texts whose only digits are 0-9 (see ScannedText.ascii_digits): a
# character class is tested faster than the Unicode digit category. No ``\d`` of the scanner
# stands inside a class, so each can become one.
_ASCII_SCANNER = re.compile(_SCANNER.pattern.replace(r"\d", "[0-9]"))

_PHONE = PhiKind.PHONE.value
_ADDRESS = PhiKind.ADDRESS.value
_NIR = PhiKind.NIR.value
_RPPS = PhiKind.RPPS.value


def scan_numbers(
    text: str,
    cities: frozenset[str],
    birth_words: Sequence[tuple[int, int]] | None = None,
    *,
    ascii_digits: bool = False,
) -> Iterator[Span]:
    """Spans of NIR, RPPS, PHONE, DATE/BIRTHDATE, ADDRESS, ZIP and CITY found from digits.

    French month-year dates ("mars 2024") are found from their year. ``birth_words``: see
    :func:`~policies.phi.dates.date_kind`; ``ascii_digits``: the text has no digit but 0-9.
    """
    address_end = -10
    scanner = _ASCII_SCANNER if ascii_digits else _SCANNER
    for match in scanner.finditer(text):
        start, end = match.span()
        # Each alternative is a named group holding the others of its shape, so it is the
        # last group closed: ``lastgroup`` names the shape without a group() call per shape.
        shape = match.lastgroup
        if shape == "year":
            span = french_month_year(text, start, end, birth_words)
            if span is not None:
                yield span
        elif shape == "zip":
            # An address ends at most a separator (", " or " - ") before its postcode.
            after_address = 0 <= start - address_end <= 4
            yield from postcode_spans(match, start, after_address, cities)
        elif shape == "date":
            if numeric_date_ok(match, start):
                yield Span(start, end, date_kind(text, start, birth_words))
        elif shape == "phone":
            yield Span(start, end, _PHONE)
        elif shape == "day_first":
            if day_first_ok(text, start):
                yield Span(start, end, date_kind(text, start, birth_words))
        elif shape == "day_month":
            if day_month_ok(text, start):
                yield Span(start, end, date_kind(text, start, birth_words))
        elif shape == "address":
            address_end = end
            yield Span(start, end, _ADDRESS)
        elif shape == "nir":
            if is_valid_nir(match.group()):
                yield Span(start, end, _NIR)
        elif is_rpps_in_context(text, start, match.group()):
            yield Span(start, end, _RPPS)
