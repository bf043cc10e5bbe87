"""A detected identifier's place in a text: the one value that detection, scanning and
pseudonymisation exchange."""

from __future__ import annotations

from typing import NamedTuple


class Span(NamedTuple):
    """Characters ``text[start:end]`` (end exclusive) hold an identifier of kind ``type``.

    ``type`` is one of PERSON, BIRTHDATE, DATE, NIR, IPP, NDA, PHONE, EMAIL, ADDRESS, ZIP, CITY,
    IBAN, RPPS (other upper-case names are allowed for new detectors).

    A named tuple rather than a frozen dataclass: just as immutable and ordered, and built in
    half the time, which counts for the thousands of candidates a long text yields.
    """

    start: int
    end: int
    type: str
