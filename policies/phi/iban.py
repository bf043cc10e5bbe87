"""International bank account numbers (ISO 13616), validated by their mod-97 check digits."""

from __future__ import annotations

import re
from collections.abc import Iterator

from policies.spans import Span

from .kinds import PhiKind
from .scanned_text import ScannedText

# Registered lengths for the countries a French hospital meets most; any other country code is
# accepted at any length 15-34 when its check digits are right.
_LENGTHS: dict[str, int] = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
    "DZ": 26, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28,
    "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MA": 28, "MC": 27,
    "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "TN": 24,
}  # fmt: skip

# Country, check digits, then 11-30 alphanumerics in groups of up to four, optionally spaced.
_IBAN = re.compile(r"[A-Z](?<![\w][A-Z])[A-Z]\d\d(?: ?[A-Z0-9]{1,4}){3,8}(?![\w])")


def iban_checksum_ok(compact: str) -> bool:
    """True when ``compact`` (no spaces, upper case) passes the ISO 13616 mod-97 test."""
    if not 15 <= len(compact) <= 34 or not compact.isascii() or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    # Letters count as 10..35; int() of the joined digits is exact and fast enough for 34 chars.
    digits = "".join(str(int(char, 36)) for char in rearranged)
    return int(digits) % 97 == 1


def is_valid_iban(value: str) -> bool:
    """True when ``value`` (spaces allowed, any case) is a well-formed IBAN of a known length."""
    compact = value.replace(" ", "").upper()
    expected = _LENGTHS.get(compact[:2])
    if expected is not None and len(compact) != expected:
        return False
    return iban_checksum_ok(compact)


def _candidates(scanned: ScannedText) -> Iterator[re.Match[str]]:
    """The matches of ``_IBAN.finditer(text)`` whose first four characters are ASCII.

    Those start where the text's shape shows two ASCII capitals then two ASCII digits, not
    glued to a capital or digit before them (as in "DZQM006"), found at C speed, so the regex
    runs there only instead of over the whole text. (A candidate with other digits would fail
    the checksum anyway.)
    """
    end = 0
    for start in scanned.unglued_shape_starts(b"AA00"):
        if start < end:
            continue
        match = _IBAN.match(scanned.text, start)
        if match is not None:
            end = match.end()
            yield match


def find_ibans(scanned: ScannedText) -> Iterator[Span]:
    """Spans of IBANs with right check digits, with or without spaces between groups.

    The candidate may run into a following code ("... 189 BIC ..."), so the longest prefix of
    the registered length (or, for other countries, any valid length) is what is reported.
    """
    for match in _candidates(scanned):
        candidate = match.group()
        compact = candidate.replace(" ", "")
        expected = _LENGTHS.get(compact[:2])
        lengths = [expected] if expected is not None else range(min(len(compact), 34), 14, -1)
        for length in lengths:
            if length > len(compact) or not iban_checksum_ok(compact[:length]):
                continue
            # Map the compact length back to an end offset in the spaced candidate.
            seen = 0
            end = match.start()
            for offset, char in enumerate(candidate):
                if char != " ":
                    seen += 1
                if seen == length:
                    end = match.start() + offset + 1
                    break
            yield Span(match.start(), end, PhiKind.IBAN.value)
            break
