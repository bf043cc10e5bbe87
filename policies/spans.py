"""A detected identifier's place in a text: the one value that detection, scanning and
pseudonymisation exchange."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """Characters ``text[start:end]`` (end exclusive) hold an identifier of kind ``type``.

    ``type`` is one of PERSON, BIRTHDATE, DATE, NIR, IPP, NDA, PHONE, EMAIL, ADDRESS, ZIP, CITY,
    IBAN, RPPS (other upper-case names are allowed for new detectors).
    """

    start: int
    end: int
    type: str
