"""The kinds of protected health information the detector reports, as ``Span.type`` strings."""

from __future__ import annotations

from enum import StrEnum


class PhiKind(StrEnum):
    """One kind of identifier; its value is the ``Span.type`` string written in scan output."""

    PERSON = "PERSON"
    BIRTHDATE = "BIRTHDATE"
    DATE = "DATE"
    NIR = "NIR"
    IPP = "IPP"
    NDA = "NDA"
    PHONE = "PHONE"
    EMAIL = "EMAIL"
    ADDRESS = "ADDRESS"
    ZIP = "ZIP"
    CITY = "CITY"
    IBAN = "IBAN"
    RPPS = "RPPS"


ALL_KINDS: frozenset[str] = frozenset(kind.value for kind in PhiKind)
