"""Dates, postal data and fixed lines in a text about no one are not a patient's.

A date of care, a postcode, an address or a fixed line identifies a person only through the
person the text is about. A text in which nothing else was found (no name, mobile number or
mailbox) and that never refers to a patient, a relative or a patient's care ("contrôle en
mars", "sortie le") (a protocol, a notice, a rota, a supplier's letter) holds the dates of the
document and the addresses and switchboards of organisations: they are not reported.
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
    # "Mme la Cadre", "M. le Directeur": a title before a role names a position, not a person.
    r"|\bmme\b(?!\s+la\s)|\bm\.\s(?!le\s)|monsieur(?!\s+le\s)|madame(?!\s+la\s)|mademoiselle"
    r"|\bmlle\b|\bmr\b|\bmrs\b|\bms\b|domicil|portable|personne\s+de\s+confiance|\bdom\b"
    r"|famille|\bfille\b|\bfils\b|[ée]poux|[ée]pouse|conjoint|\bni[èe]ce|\bneveu|\bproche"
    r"|\bm[èe]re\b|\bp[èe]re\b|\bs(?:œ|oe)ur|\bfr[èe]re|tuteur|tutrice|next\s+of\s+kin"
    r"|daughter|\bwife|husband"
    r"|demeurant|habit|r[ée]sid|\bvit\b|vivant|\bans\b|enfant|b[ée]b[ée]|nourrisson|grossesse"
    r"|enceinte|parturiente|r[ée]sident|b[ée]n[ée]ficiaire|assur[ée]e?\b|usager|consult[ée]"
    r"|\bvu\b|\bvue\b|revu|admitted|discharged|born|\bhe\b|\bshe\b|year-old|\bdob\b"
    r"|\bpt\b|\bpte\b|\bmr\.|\bmrs\.|contr[ôo]le\s+(?:en|le|du|prévu)|\brdv\b|rendez-vous"
    r"|\bsuivi\s+(?:en|le|du)|\bsortie\s+(?:le|du|pr[ée]vue)|\bentr[ée]e?\s+le|\bj\d+\b"
    # A form's address field ("Adresse : 12 rue ..."): an organisation's is named as such
    # ("adresse de livraison") and dropped by the institutional rules.
    r"|\badresse\s*(?:postale\s*)?:|\baddress\s*:"
)


_PHONE = PhiKind.PHONE.value
_SITE_KINDS = frozenset(
    kind.value for kind in (PhiKind.ADDRESS, PhiKind.ZIP, PhiKind.CITY, PhiKind.PHONE)
)
_CUE_WINDOW = 160
# Words before an address, postcode or commune that make it someone's residence or birthplace.
_RESIDENCE = re.compile(
    r"domicil|habit|demeur|r[ée]sid|\bvit\b|vivant|adresse|address|n[ée]e?\s+(?:le|à|a)\b"
    r"|originaire|\blives?\b|living|\bhome\b|born|naissance|\blieu\b|ville|commune|install"
    r"|h[ée]berg|\bchez\b"
)
# Words before a fixed line that make it a person's own.
_PHONE_OWNER = re.compile(
    r"(?m)domicil|\bdom\b|\bperso\b|(?:num[ée]ro|t[ée]l[ée]phone|ligne)\s+personnel|portable"
    r"|famille|\bfille|\bfils\b|[ée]poux|[ée]pouse|conjoint|\bproche|\bm[èe]re\b|\bp[èe]re\b|\bs(?:œ|oe)ur|\bfr[èe]re|\bni[èe]ce|\bneveu|confiance|tuteur"
    r"|tutrice|\bhome\b"
    r"|kin\b|daughter|wife|husband|(?:du|de\s+la)\s+patiente?\b"
    r"|joindre\s+(?:la|le)\s+patient"
    # A contact card's heading ("Coordonnées", "CONTACTS" on its own line).
    r"|coordonn[ée]es|^contacts\s*$"
)
# Fixed lines (01-05, 09), however written: a mobile (06, 07) may be anyone's own.
_LANDLINE = re.compile(r"(?:\+\s?33\s?(?:\(0\)\s?)?|0033\s?|0)[1-59]")


def _contextual(text: str, span: Span) -> bool:
    if span.type in _CONTEXTUAL:
        return True
    # A fixed line in a text about no one is an organisation's switchboard or service.
    return span.type == _PHONE and _LANDLINE.match(text, span.start) is not None


def drop_lone_spans(lowered: str, spans: list[Span]) -> list[Span]:
    """``spans`` unless all of them are dates, postal data or fixed phone lines in a text
    about no one.

    ``lowered`` is the text lower-cased.
    """
    if not spans or not all(_contextual(lowered, span) for span in spans):
        return spans
    if not _ABOUT_SOMEONE.search(lowered):
        return []
    # A text about a patient but naming no one ("le patient est adressé au laboratoire, 3 rue
    # ..."): postal data and fixed lines are the patient's only where the words before them say
    # so; the rest belong to the sites and services the text sends the patient to.
    return [span for span in spans if span.type not in _SITE_KINDS or _owned(lowered, span)]


def _owned(lowered: str, span: Span) -> bool:
    cues = _PHONE_OWNER if span.type == _PHONE else _RESIDENCE
    return cues.search(lowered, max(0, span.start - _CUE_WINDOW), span.start) is not None
