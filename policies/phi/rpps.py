"""RPPS numbers of health professionals: 11 digits with a Luhn check digit."""

from __future__ import annotations

import re

from .caseless import first_letter_guard
from .luhn import luhn_valid

# What follows the first digit in the numeric scanner.
RPPS_AFTER_FIRST_DIGIT = r"\d{10}(?![\w]|[.,]\d)"
# Any 11 digits pass Luhn one time in ten, so a number needs either the RPPS prefix "10"
# (every RPPS number starts with it) or the keyword nearby, and no batch/lot keyword.
_KEYWORD = re.compile(first_letter_guard("ri") + r"(?i:rpps|identifiant\s+national)")
_NOT_RPPS = re.compile(
    first_letter_guard("lbcsfr") + r"(?i:\blot\b|\bbatch\b|\bcip\b|\bsiret\b|\bfiness\b|\bref\b)"
)


def is_valid_rpps(value: str) -> bool:
    """True when ``value`` is exactly 11 ASCII digits passing the Luhn check."""
    return len(value) == 11 and luhn_valid(value)


def is_rpps_in_context(text: str, start: int, digits: str) -> bool:
    """True when the valid 11-digit number ``digits`` at ``start`` reads as an RPPS number."""
    if not is_valid_rpps(digits):
        return False
    before = text[max(0, start - 30) : start]
    if _NOT_RPPS.search(before):
        return False
    return digits.startswith("10") or _KEYWORD.search(before) is not None
