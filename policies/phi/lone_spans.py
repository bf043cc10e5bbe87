"""Dates and postal data in a text about no one are not a patient's.

A date of care, a postcode or an address identifies a person only through the person the text
is about. A text in which nothing else was found (no name, number, phone or mailbox) and that
never refers to a patient or to a patient's care ("contrôle en mars", "sortie le") (a protocol,
a notice, a supplier's letter) holds the dates of the document and the addresses of
organisations: they are not reported.
"""

from __future__ import annotations

import re

from policies.spans import Span

from .kinds import PhiKind

# Kinds that alone say nothing about whom a text concerns.
_CONTEXTUAL = frozenset(
    kind.value for kind in (PhiKind.DATE, PhiKind.ADDRESS, PhiKind.ZIP, PhiKind.CITY)
)
# Words that make a text about a person (searched in the lower-cased text).
_ABOUT_SOMEONE = re.compile(
    # "patients", "all patients": a rule for many people is about no one.
    r"patiente?\b|patient\(e\)|malade\b|admise?\b|hospitalis|op[ée]r[ée]e?\b|sortante?\b|d[ée]c[ée]d|n[ée]e?\s+le"
    r"|\bmme\b|\bm\.\s|monsieur|madame|mademoiselle|\bmlle\b|\bmr\b|\bmrs\b|\bms\b|domicil"
    r"|demeurant|habit|r[ée]sid|\bvit\b|vivant|\bans\b|enfant|b[ée]b[ée]|nourrisson|grossesse"
    r"|enceinte|parturiente|r[ée]sident|b[ée]n[ée]ficiaire|assur[ée]e?\b|usager|consult[ée]"
    r"|\bvu\b|\bvue\b|revu|admitted|discharged|born|\bhe\b|\bshe\b|year-old|\bdob\b"
    r"|\bpt\b|\bpte\b|\bmr\.|\bmrs\.|contr[ôo]le\s+(?:en|le|du|prévu)|\brdv\b|rendez-vous"
    r"|\bsuivi\s+(?:en|le|du)|\bsortie\s+(?:le|du|pr[ée]vue)|\bentr[ée]e?\s+le|\bj\d+\b"
    # A form's address field ("Adresse : 12 rue ..."): an organisation's is named as such
    # ("adresse de livraison") and dropped by the institutional rules.
    r"|\badresse\s*(?:postale\s*)?:|\baddress\s*:"
)


def drop_lone_spans(lowered: str, spans: list[Span]) -> list[Span]:
    """``spans`` unless all of them are dates or postal data in a text about no one.

    ``lowered`` is the text lower-cased.
    """
    if not spans or any(span.type not in _CONTEXTUAL for span in spans):
        return spans
    if _ABOUT_SOMEONE.search(lowered):
        return spans
    return []
