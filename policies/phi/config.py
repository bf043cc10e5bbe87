"""What a hospital configures about PHI detection: its number formats and its own public data."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, field_validator

from .hospital_numbers import DEFAULT_IPP_PATTERNS, DEFAULT_IPP_SHAPES, DEFAULT_NDA_PATTERNS
from .kinds import ALL_KINDS


def _compiles(patterns: tuple[str, ...]) -> tuple[str, ...]:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"invalid regular expression {pattern!r}: {error}") from error
    return patterns


class InstitutionalAllowlist(BaseModel):
    """The hospital's own public data, which is never reported as patient data.

    ``strings`` and ``patterns`` mark regions of a text (a letterhead address, a switchboard line):
    any span overlapping an occurrence is dropped. ``phone_numbers`` are compared on their ten
    national digits, whatever their format. Every address at ``email_domains`` (or a subdomain)
    is institutional; ``email_local_patterns`` (full-match regexes, case-insensitive) add generic
    mailbox names, at any domain, to the built-in ones (secretariat, accueil, contact, ...).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    strings: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    phone_numbers: tuple[str, ...] = ()
    email_domains: tuple[str, ...] = ()
    email_local_patterns: tuple[str, ...] = ()

    @field_validator("patterns", "email_local_patterns")
    @classmethod
    def _check_patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _compiles(value)


class DetectorConfig(BaseModel):
    """Settings of one :class:`~policies.phi.detector.PhiDetector`; immutable.

    ``ipp_patterns`` / ``nda_patterns`` are regexes whose group ``id`` (else group 1, else the
    whole match) is the number. ``ipp_shapes`` / ``nda_shapes`` are regexes of the whole
    number, found with no keyword wherever they stand alone: configure only shapes that nothing
    else takes (the default, ten digits opening with 80, is the demo hospital's).
    ``enabled_types`` limits the kinds reported.
    ``institutional_heuristics`` turns the built-in letterhead/switchboard/generic-mailbox rules
    on or off; the allowlist always applies.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    ipp_patterns: tuple[str, ...] = DEFAULT_IPP_PATTERNS
    nda_patterns: tuple[str, ...] = DEFAULT_NDA_PATTERNS
    ipp_shapes: tuple[str, ...] = DEFAULT_IPP_SHAPES
    nda_shapes: tuple[str, ...] = ()
    institutional: InstitutionalAllowlist = InstitutionalAllowlist()
    enabled_types: frozenset[str] = ALL_KINDS
    institutional_heuristics: bool = True

    @field_validator("ipp_patterns", "nda_patterns", "ipp_shapes", "nda_shapes")
    @classmethod
    def _check_patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _compiles(value)

    @field_validator("enabled_types")
    @classmethod
    def _check_types(cls, value: frozenset[str]) -> frozenset[str]:
        unknown = value - ALL_KINDS
        if unknown:
            raise ValueError(f"unknown PHI types: {sorted(unknown)}")
        return value
