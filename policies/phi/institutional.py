"""The hospital's own data (letterheads, switchboards, service mailboxes, FINESS/SIRET) is not
patient data: this module decides which detected spans are institutional and drops them."""

from __future__ import annotations

import re
from collections.abc import Sequence

from policies.spans import Span

from .config import InstitutionalAllowlist
from .kinds import PhiKind
from .lowercase import aligned_lower
from .luhn import luhn_valid
from .phones import national_digits

# How a line that opens a letterhead block begins (lower-cased): an institution, a service,
# or its switchboard. Compared with str.startswith, which is much cheaper than a regex per line.
_LETTERHEAD_OPENINGS = (
    "chu", "c.h.u", "chru", "chr", "chi", "chs", "ch", "ghu", "ght", "gh", "ap-hp", "aphp", "hcl",
    "nhs", "centre hospitalier", "hôpital", "hopital", "hospital", "clinique", "polyclinique",
    "groupe hospitalier", "hospices", "institut", "fondation", "service", "pôle", "pole",
    "département", "departement", "unité", "unite", "secrétariat", "secretariat", "standard",
    "accueil", "finess", "siret", "trust", "maison de santé", "centre de santé", "ehpad",
    "cabinet", "laboratoire",
)  # fmt: skip
_BLOCK_KINDS = frozenset(
    {PhiKind.PHONE.value, PhiKind.ADDRESS.value, PhiKind.ZIP.value, PhiKind.CITY.value,
     PhiKind.EMAIL.value}
)  # fmt: skip
_MAX_BLOCK_LINES = 6
_PHONE = PhiKind.PHONE.value
_EMAIL = PhiKind.EMAIL.value
# A line (or the text before a number) that talks about the patient is never institutional.
# Searched in lower-cased text: literal-led alternatives let the regex engine skip ahead.
_PATIENT_WORDS = re.compile(
    r"patient|domicil|demeurant|habit|née?\b|nee\b|m\. |mme\b|mlle\b|monsieur|madame"
    r"|personnel|portable\s+(?:du|de\s+la)|famille|fille|fils\b|[ée]poux|[ée]pouse|conjoint"
    r"|home\b|mobile\s+of|his\b|her\b|joindre|joignable|contacter\s+(?:le|la)|proche"
)
# Form fields about the patient end a letterhead block too.
_BLOCK_END = re.compile(
    _PATIENT_WORDS.pattern + r"|nom\b|pr[ée]nom|name\b|adresse|address|portable|mobile"
)
_PHONE_KEYWORDS = re.compile(
    r"(?i:standard|secr[ée]tariat|secretary|accueil|\bfax\b|t[ée]l[ée]copie|switchboard|\brdv\b"
    r"|rendez-vous|consultations?|\bservice\b|\bbip\b|\bposte\b|urgences|ligne\s+directe"
    r"|h[ôo]pital|\bCHU\b|clinique|cabinet|unit[ée]|bureau|infirmi[eè]re?s?|cadre\s+de\s+sant[ée])"
)
_GENERIC_LOCAL = re.compile(
    r"(?i:(?:[a-z0-9]+[._\-])?(?:secr[ée]tariat|secretariat|secretary|secr|accueil|contact|info"
    r"|infos|direction|admissions?|standard|rdv|rendez-?vous|consultations?|urgences|service"
    r"|dpo|communication|courrier|no-?reply|bureau|cadre|pharmacie|labo|laboratoire|radiologie"
    r"|imagerie|facturation|qualit[ée]|helpdesk|support|dim|bloc|hdj|reception|enquiries|office"
    r"|admin|webmaster|postmaster|relations-?usagers|usagers|cardio|neuro|pneumo)(?:[._\-][a-z0-9]+)*)"
)
# FINESS / SIRET / VAT numbers after their keyword (matched at each keyword found in the
# lower-cased text), and bare 14-digit numbers that pass the SIRET Luhn check.
_REGISTRY_KEYWORDS = re.compile(r"finess|siret|siren|tva")
_REGISTRY_NUMBER = re.compile(
    r"(?i:finess|siret|siren|tva\s+intracommunautaire|tva)[ \t]*(?:n°|:)?[ \t]*(?:FR[ \t]?)?"
    r"[\d ]{9,17}\d"
)
_BARE_SIRET = re.compile(r"\d(?<![\w]\d)(?<!\d \d)\d\d ?\d{3} ?\d{3} ?\d{5}(?![\w])")


class InstitutionalFilter:
    """Drops institutional spans; built once per detector from its allowlist."""

    def __init__(self, allowlist: InstitutionalAllowlist, *, heuristics: bool) -> None:
        self._heuristics = heuristics
        self._strings = tuple(s for s in allowlist.strings if s)
        self._patterns = tuple(re.compile(p) for p in allowlist.patterns)
        self._phones = frozenset(national_digits(p) for p in allowlist.phone_numbers)
        self._domains = tuple(d.lower().lstrip("@") for d in allowlist.email_domains)
        self._locals = tuple(re.compile(p, re.IGNORECASE) for p in allowlist.email_local_patterns)

    def is_institutional_email(self, address: str) -> bool:
        """True for a service mailbox or any address at a configured institutional domain."""
        local, _, domain = address.lower().rpartition("@")
        if any(domain == d or domain.endswith("." + d) for d in self._domains):
            return True
        if any(p.fullmatch(local) for p in self._locals):
            return True
        return self._heuristics and _GENERIC_LOCAL.fullmatch(local) is not None

    def _masks(self, text: str) -> list[tuple[int, int]]:
        masks: list[tuple[int, int]] = []
        for string in self._strings:
            at = text.find(string)
            while at != -1:
                masks.append((at, at + len(string)))
                at = text.find(string, at + 1)
        for pattern in self._patterns:
            masks.extend(m.span() for m in pattern.finditer(text) if m.end() > m.start())
        if self._heuristics:
            lowered = aligned_lower(text)
            if lowered is not None:
                for keyword in _REGISTRY_KEYWORDS.finditer(lowered):
                    found = _REGISTRY_NUMBER.match(text, keyword.start())
                    if found is not None:
                        masks.append(found.span())
            for match in _BARE_SIRET.finditer(text):
                # A bare 14-digit number is a SIRET only if its Luhn digit says so.
                if luhn_valid(match.group().replace(" ", "")):
                    masks.append(match.span())
        return masks

    def _in_letterhead(self, text: str, position: int) -> bool:
        """True when ``position`` lies in a letterhead: its line, or one of the five above it,
        opens with an institution's name, and no line in between is blank or about the patient."""
        line_start = text.rfind("\n", 0, position) + 1
        for _ in range(_MAX_BLOCK_LINES):
            line_end = text.find("\n", line_start)
            line = text[line_start : len(text) if line_end == -1 else line_end]
            if not line.strip() or _BLOCK_END.search(line.lower()):
                return False
            head = line[:24].lstrip(" \t").lower()
            if head.startswith(_LETTERHEAD_OPENINGS) and any(
                head.startswith(o) and (len(head) == len(o) or not head[len(o)].isalnum())
                for o in _LETTERHEAD_OPENINGS
            ):
                return True
            if line_start == 0:
                return False
            line_start = text.rfind("\n", 0, line_start - 1) + 1
        return False

    def _institutional(self, text: str, span: Span) -> bool:
        line_start = text.rfind("\n", 0, span.start) + 1
        if span.type == _PHONE:
            if self._phones and national_digits(text[span.start : span.end]) in self._phones:
                return True
            if not self._heuristics:
                return False
            before = text[max(line_start, span.start - 40) : span.start]
            if _PHONE_KEYWORDS.search(before) and not _PATIENT_WORDS.search(before.lower()):
                return True
        if span.type == _EMAIL and self.is_institutional_email(text[span.start : span.end]):
            return True
        if not self._heuristics or span.type not in _BLOCK_KINDS:
            return False
        return self._in_letterhead(text, span.start)

    def filter(self, text: str, spans: Sequence[Span]) -> list[Span]:
        """``spans`` less those that are the hospital's own data."""
        masks = self._masks(text)
        kept: list[Span] = []
        for span in spans:
            if any(start < span.end and span.start < end for start, end in masks):
                continue
            if self._institutional(text, span):
                continue
            kept.append(span)
        return kept
