"""The Luhn (mod 10) check digit used by RPPS and SIRET numbers."""

from __future__ import annotations


def luhn_valid(digits: str) -> bool:
    """True when ``digits`` (ASCII digits only, check digit last) passes the Luhn test.

    An empty or non-digit string is never valid.
    """
    if not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    # Double every second digit starting from the one left of the check digit.
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0
