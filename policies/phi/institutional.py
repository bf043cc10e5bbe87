"""The hospital's own data (letterheads, switchboards, service mailboxes, FINESS/SIRET) is not
patient data: this module decides which detected spans are institutional and drops them."""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from policies.spans import Span

from .config import InstitutionalAllowlist
from .keyword_search import keyword_positions, matches_at
from .kinds import PhiKind
from .luhn import luhn_valid
from .phones import national_digits
from .scanned_text import ScannedText
from .word_hints import HintIndex, WordHints

# How a line that opens a letterhead block begins (lower-cased): an institution, a service,
# or its switchboard. Compared with str.startswith, which is much cheaper than a regex per line.
_LETTERHEAD_OPENINGS = (
    "chu", "c.h.u", "chru", "chr", "chi", "chs", "ch", "ghu", "ght", "gh", "ap-hp", "aphp", "hcl",
    "nhs", "centre hospitalier", "hôpital", "hopital", "hospital", "clinique", "polyclinique",
    "groupe hospitalier", "hospices", "institut", "fondation", "service", "pôle", "pole",
    "département", "departement", "unité", "unite", "secrétariat", "secretariat", "standard",
    "accueil", "finess", "siret", "trust", "maison de santé", "centre de santé", "ehpad",
    "cabinet", "laboratoire", "pharmacie", "pui", "direction", "cellule", "équipe", "equipe",
    "plateforme", "site", "siège", "siege", "bâtiment", "batiment", "consultation",
    "consultations", "urgences", "samu", "smur", "efs", "centre", "ars", "cpam", "had",
)  # fmt: skip
# The openings by their first two characters (every opening has at least two).
_OPENINGS_BY_PREFIX: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        prefix: tuple(o for o in _LETTERHEAD_OPENINGS if o.startswith(prefix))
        for prefix in {o[:2] for o in _LETTERHEAD_OPENINGS}
    }
)
_BLOCK_KINDS = frozenset(
    {PhiKind.PHONE.value, PhiKind.ADDRESS.value, PhiKind.ZIP.value, PhiKind.CITY.value,
     PhiKind.EMAIL.value}
)  # fmt: skip
_SITE_KINDS = frozenset({PhiKind.ADDRESS.value, PhiKind.ZIP.value, PhiKind.CITY.value})
_DATE = PhiKind.DATE.value
_FILTERED_KINDS = _BLOCK_KINDS | {_DATE}
_MAX_BLOCK_LINES = 6
_PHONE = PhiKind.PHONE.value
_EMAIL = PhiKind.EMAIL.value
# A line (or the text before a number) that talks about the patient is never institutional.
# Searched in lower-cased text: literal-led alternatives let the regex engine skip ahead.
# Each opens with a guard of its words' first letters: the engine then skips every other
# position with one test instead of trying each alternative (these run on every span's window).
_PATIENT_WORDS = re.compile(
    r"(?=[pdhnmfécej])(?:patiente?\b|domicil|demeurant|habit|née?\b|nee\b|m\. |mme\b|mlle\b"
    r"|monsieur|madame"
    r"|personnel|portable\s+(?:du|de\s+la)|famille|fille|fils\b|[ée]poux|[ée]pouse|conjoint"
    r"|home\b|mobile\s+of|his\b|her\b|joindre|joignable|contacter\s+(?:le|la)|proche)"
)
# Words that make a number the patient's or a relative's own, whatever service is named too.
_PATIENT_OWN = re.compile(
    r"(?=[pdfécemsh])(?:patiente?\b|domicil|demeurant|personnel|portable\s+(?:du|de\s+la|de\s+son|de\s+sa)|famille"
    r"|fille|fils\b|[ée]poux|[ée]pouse|conjoint|proche|m[èe]re\b|p[èe]re\b|s(?:œ|oe)ur|fr[èe]re"
    r"|mobile\s+of|home\b|\bhis\b|\bher\b|\bmme\b|\bm\. |monsieur|madame|\bmlle\b)"
)
# Form fields about the patient end a letterhead block too.
_BLOCK_END = re.compile(
    r"(?=[pdhnmfécja])(?:"
    + _PATIENT_WORDS.pattern
    + r"|nom\b|pr[ée]nom|name\b|adresse|address|portable|mobile)"
)
# Words before a phone number that make it a service's line (searched in lower-cased text,
# through the keyword index: a case-insensitive alternation cost ~5 µs per number).
_PHONE_HINTS = WordHints(
    "phone",
    words=("fax", "rdv", "service", "bip", "poste", "chu"),
    prefixes=("standard", "secrétariat", "secretariat", "secretary", "accueil", "télécopie",
              "télecopie", "telécopie", "telecopie", "switchboard", "rendez-vous", "consultation",
              "urgences", "hôpital", "hopital", "clinique", "cabinet", "unité", "unite", "bureau",
              "infirmi", "ligne directe", "cadre de santé", "cadre de sante"),
)  # fmt: skip
# Words before a phone number that make it a service's line even in a sentence that also
# talks about reaching someone ("interne de garde joignable 24h/24 au ..."), or a product's
# batch number (searched in lower-cased text).
_SERVICE_LINE = WordHints(
    "service",
    words=("bip", "poste", "fax", "lot", "batch", "cadre", "interne", "bloc", "pui", "samu",
           "smur", "dect", "chu", "pôle", "pole", "hotline", "accueil", "standard"),
    prefixes=("24h/24", "24 h/24", "24h / 24", "24h sur 24", "astreinte", "de garde",
              "pharmaci", "secrétariat", "secretariat", "télécopie", "telecopie", "télecopie",
              "telécopie", "laboratoire", "permanence", "numéro vert", "numero vert",
              "numéro unique", "numero unique", "numéro d'appel", "plateforme", "cellule",
              "régulation", "regulation", "antipoison", "centre de", "centre d'",
              "centre hospitalier", "équipe mobile", "equipe mobile", "infirmerie",
              "service de", "service d'", "service des", "unité ", "unite ", "consultation",
              "prise de rendez-vous", "hôpital", "hopital", "clinique"),
)  # fmt: skip
# Words on the line before an address that make it a site of the hospital or of another
# organisation: where samples are delivered, orders sent, a laboratory, a platform.
_SITE_WORDS = WordHints(
    "site",
    words=("pui", "siège", "siege", "bloc", "chu", "chr", "ch", "pôle", "pole", "site", "hall",
           "porte", "efs", "cpam", "ars", "mdph", "rdv", "cedex"),
    prefixes=("laboratoire", "livraison", "livrer", "déposer", "deposer", "dépôt", "depot",
              "envoy", "expédi", "expedi", "achemin", "plateforme", "pharmacie", "magasin",
              "logistique", "secrétariat", "secretariat", "bâtiment", "batiment", "pavillon",
              "courrier", "retourner", "renvoyer", "réception", "reception", "prélèvements",
              "prelevements", "hôpital", "hopital", "clinique", "centre", "institut", "service",
              "unité", "unite", "consultation", "accueil", "bureau", "direction", "campus",
              "étage", "etage", "parking", "mairie", "préfecture", "prefecture", "association",
              "fondation", "maison de", "cabinet", "rendez-vous", "adresser", "s'adresser",
              "établissement", "etablissement", "fournisseur", "société", "societe",
              "prestataire", "distributeur", "industriel"),
)  # fmt: skip
# Organisations' postal addresses: individuals have no CEDEX, postal box (BP) or sorting code.
_ORGANISATION_ADDRESS = re.compile(r"\bcedex\b|\bbp\s*\d|\bcs\s*\d|\btsa\s*\d")
# What _ORGANISATION_ADDRESS needs in the text to match at all.
_ORGANISATION_WORD = re.compile(r"cedex|bp|cs|tsa")
_ORGANISATION_WORDS = ("cedex", "bp", "cs", "tsa")
# Form fields that name the address after them as someone's.
_ADDRESS_FIELDS = (
    "adresse", "address", "domicil", "demeurant", "habite", "originaire", "vivant", "vit à",
    "résid", "né à", "née à", "naissance",
)  # fmt: skip


def _guard_letters(pattern: re.Pattern[str]) -> str:
    """The letters of the ``(?=[...])`` guard that opens ``pattern``."""
    guard = re.match(r"\(\?=\[([^\]]+)\]\)", pattern.pattern)
    assert guard is not None, "the pattern opens with a first-letter guard"
    return guard.group(1)


# What makes an address after it the patient's rather than a site's named before it.
_SITE_VETO = re.compile(
    # Guarded by the first letters of all its words, as _PATIENT_WORDS is by its own: the
    # fields' words would otherwise be tried at every position of the window.
    "(?=["
    + "".join(sorted(set(_guard_letters(_PATIENT_WORDS)) | {word[0] for word in _ADDRESS_FIELDS}))
    + "])(?:"
    + _PATIENT_WORDS.pattern
    + "|"
    + "|".join(re.escape(word) for word in _ADDRESS_FIELDS)
    + ")"
)
# Organisations named in the sentences before a bare phone label on its line.
_ORGANISATION_NAME = re.compile(
    r"(?=[lfsdipcaeomh])(?:laboratoire|fournisseur|soci[ée]t[ée]|prestataire|distributeur"
    r"|industriel|pharmacie|centre\s+antipoison|ars\b|cpam|mdph|efs\b|magasin|h[ôo]pital"
    r"|clinique|centre\s+hospitalier)"
)
# A phone label alone before its number ("Tél. :", "Tel", "Fax") once its sentence is cut.
_BARE_PHONE_LABEL = re.compile(r"[ \t]*(?:(?i:t[ée]l[ée]phone|t[ée]l|phone|fax)\.?[ \t]*:?[ \t]*)?")
# Words just before a date that make it the date of a document (its version, validation or
# review), of a legal text, a meeting or a product, not of a patient's care.
_DOCUMENT_DATE = WordHints(
    "document",
    words=("exp", "dlu", "loi", "décret", "decret", "arrêté", "arrete", "circulaire",
           "instruction", "directive", "règlement", "reglement", "cme", "clin", "comedims",
           "formation", "version", "réunion", "reunion", "fait à", "fait a"),
    prefixes=("application", "mise à jour", "mis à jour", "mise a jour", "révision", "revision",
              "vigueur", "péremption", "peremption", "expiration", "utiliser avant", "fabriqu",
              "actualis", "date d'effet", "date d'édition", "date d'edition", "date d'impression",
              "date d'approbation", "date de création", "date de creation", "date de validation",
              "date de révision", "date de diffusion", "date de publication", "journal officiel",
              "comité", "comite", "commission", "conseil d", "séance", "seance", "congrès",
              "congres", "séminaire", "seminaire", "webinaire", "colloque", "note de service",
              "note d'information", "à compter du", "a compter du", "ordre du jour", "effective",
              "issued", "date of issue", "ratified", "approved", "last updated", "updated",
              "review date", "date of review", "next review", "reviewed by", "valid from",
              "valid until", "published", "committee", "meeting"),
)  # fmt: skip
# A document named before a date ("protocole validé le"): the document and what was done to it.
_DOCUMENT_NOUNS = WordHints(
    "noun",
    prefixes=("protocole", "procédure", "procedure", "document", "fiche", "note", "charte",
              "référentiel", "referentiel", "recommandation"),
)  # fmt: skip
_DOCUMENT_VERBS = WordHints(
    "verb",
    prefixes=("valid", "rédig", "redig", "approuv", "vérifi", "verifi", "diffus", "créé", "cree",
              "édit", "edit", "publi", "sign", "modifi", "revu", "mis "),
)  # fmt: skip
# The keyword groups the hints above read from the detector's keyword index.
HINT_KEYWORDS: dict[str, tuple[str, ...]] = {
    group: words
    for hints in (
        _PHONE_HINTS,
        _SERVICE_LINE,
        _SITE_WORDS,
        _DOCUMENT_DATE,
        _DOCUMENT_NOUNS,
        _DOCUMENT_VERBS,
    )
    for group, words in hints.keyword_groups().items()
}
# Domains of hospitals, health agencies and public bodies: an address there that does not name
# a person is a mailbox of the institution.
_INSTITUTION_DOMAIN = re.compile(
    r"(?:^|[.\-])(?:chu|chru|chr|chi|ch|ghu|ght|gh|aphp|ap-hp|aphm|ap-hm|hcl|hopital|hopitaux"
    r"|hospit\w*|clinique|sante|ars|has-sante|gouv|efs|unicancer|institut|curie|gustaveroussy"
    r"|ameli|assurance-maladie|cpam|mdph|ehpad|centre|univ|inserm)(?:[.\-]|$)"
)
_LOCAL_WORDS = re.compile(r"[a-z]+")
_GENERIC_LOCAL = re.compile(
    r"(?i:(?:[a-z0-9]+[._\-])?(?:secr[ée]tariat|secretariat|secretary|secr|accueil|contact|info"
    r"|infos|direction|admissions?|standard|rdv|rendez-?vous|consultations?|urgences|service"
    r"|dpo|communication|courrier|no-?reply|bureau|cadre|pharmacie|labo|laboratoire|radiologie"
    r"|imagerie|facturation|qualit[ée]|helpdesk|support|dim|bloc|hdj|reception|enquiries|office"
    r"|admin|webmaster|postmaster|relations-?usagers|usagers|cardio|neuro|pneumo|pui|pharma\w*"
    r"|st[ée]ril\w*|astreinte|garde|hygi[eè]ne|biologie|bact[ée]rio|logistique|magasin|achats"
    r"|planning|equipe|[ée]quipe|p[ôo]le|unite|hopital|chu|medecine|chirurgie|maternite|pediatrie"
    r"|samu|smur|transports?|archives|cme|rh|drh|dsi|informatique|\w*vigilance|soins|ide)(?:[._\-][a-z0-9]+)*)"
)
# FINESS / SIRET / VAT numbers after their keyword (matched at each keyword found in the
# lower-cased text), and bare 14-digit numbers that pass the SIRET Luhn check.
_REGISTRY_KEYWORD = re.compile(r"finess|siret|siren|tva")
REGISTRY_KEYWORDS = ("finess", "siret", "siren", "tva")
_REGISTRY_NUMBER = re.compile(
    r"(?i:finess|siret|siren|tva\s+intracommunautaire|tva)[ \t]*(?:n°|:)?[ \t]*(?:FR[ \t]?)?"
    r"[\d ]{9,17}\d"
)
_BARE_SIRET = re.compile(r"\d(?<![\w]\d)(?<!\d \d)\d\d ?\d{3} ?\d{3} ?\d{5}(?![\w])")
_SIRET_WIDTH = 17
_SIRET_DIGITS = 14


class InstitutionalFilter:
    """Drops institutional spans; built once per detector from its allowlist."""

    def __init__(
        self,
        allowlist: InstitutionalAllowlist,
        *,
        heuristics: bool,
        names: frozenset[str] = frozenset(),
    ) -> None:
        self._heuristics = heuristics
        # First names and surnames: an e-mail's local part holding one names a person.
        self._names = names
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
        if not self._heuristics:
            return False
        if _GENERIC_LOCAL.fullmatch(local) is not None:
            return True
        # "pharmacie.centrale@chu-x.fr" is a service; "marie.dupont@chu-x.fr" a person.
        return _INSTITUTION_DOMAIN.search(domain) is not None and not any(
            word in self._names for word in _LOCAL_WORDS.findall(local)
        )

    def _masks(
        self, scanned: ScannedText, keyword_starts: list[int] | None
    ) -> list[tuple[int, int]]:
        text = scanned.text
        masks: list[tuple[int, int]] = []
        for string in self._strings:
            at = text.find(string)
            while at != -1:
                masks.append((at, at + len(string)))
                at = text.find(string, at + 1)
        for pattern in self._patterns:
            masks.extend(m.span() for m in pattern.finditer(text) if m.end() > m.start())
        if self._heuristics:
            if scanned.aligned:
                if keyword_starts is None:
                    keyword_starts = keyword_positions(scanned.lowered, REGISTRY_KEYWORDS)
                for keyword in matches_at(_REGISTRY_KEYWORD, scanned.lowered, keyword_starts):
                    found = _REGISTRY_NUMBER.match(text, keyword.start())
                    if found is not None:
                        masks.append(found.span())
            masks.extend(_bare_sirets(scanned))
        return masks

    def _institutional(
        self, text: str, span: Span, letterheads: _Letterheads, hints: _Hints
    ) -> bool:
        if span.type == _PHONE:
            if self._phones and national_digits(text[span.start : span.end]) in self._phones:
                return True
            if not self._heuristics:
                return False
            line_start = text.rfind("\n", 0, span.start) + 1
            lo = max(line_start, span.start - 40)
            before = text[lo : span.start]
            # The words that say whose number it is stand in its own sentence.
            cut = max(before.rfind(". "), before.rfind(";")) + 1
            before, lo = before[cut:], lo + cut
            # Lower-cased only for a number that a hint or a keyword may make a service's.
            # A number after a service word that the patient owns fails the hint test below
            # too (it asks the same of the window): that test is skipped then.
            if hints.found(_SERVICE_LINE, lo, span.start):
                if not _PATIENT_OWN.search(before.lower()):
                    return True
            # "Le patient peut joindre l'infirmière de coordination au": a service named after
            # the last word about the patient makes the number the service's.
            elif hints.found(_PHONE_HINTS, lo, span.start):
                lowered = before.lower()
                if not _PATIENT_OWN.search(lowered) and hints.found(
                    _PHONE_HINTS, lo + _last_end(_PATIENT_WORDS, lowered), span.start
                ):
                    return True
            # "Laboratoires X, 1 rue ..., 69007 Lyon. Tél. 04 ...": a bare phone label leaves
            # whose number it is to the sentences before it on the line.
            if lo > line_start and _BARE_PHONE_LABEL.fullmatch(before):
                wide = max(line_start, span.start - 120)
                window = text[wide : span.start].lower()
                if _ORGANISATION_NAME.search(window) and not _PATIENT_OWN.search(window):
                    return True
        if span.type == _EMAIL and self.is_institutional_email(text[span.start : span.end]):
            return True
        if not self._heuristics:
            return False
        if span.type == _DATE:
            # Most texts name no document, law or meeting: their dates need no window search.
            if not hints.present(_DOCUMENT_DATE) and not (
                hints.present(_DOCUMENT_NOUNS) and hints.present(_DOCUMENT_VERBS)
            ):
                return False
            lo = _line_start_within(text, span.start, 90)
            if hints.found(_DOCUMENT_DATE, max(lo, span.start - 50), span.start):
                return True
            return hints.found(
                _DOCUMENT_VERBS, max(lo, span.start - 40), span.start
            ) and hints.found(_DOCUMENT_NOUNS, lo, span.start)
        if span.type in _SITE_KINDS:
            lo = _line_start_within(text, span.start, 120)
            if hints.found(_SITE_WORDS, lo, span.start) and _site_address(
                text[lo : span.start].lower(), lo, span.start, hints
            ):
                return True
            # Most texts hold no CEDEX, BP, CS or TSA at all: no window to lower-case then.
            if not hints.organisation_words():
                return letterheads.holds(span.start)
            before = text[max(lo, span.start - 60) : span.start].lower()
            after = text[span.end : span.end + 40].lower().split("\n", 1)[0]
            # A cheap test of each side first (no word joins them across the blank put
            # between): the regex is needed only to check the word boundaries.
            if (_ORGANISATION_WORD.search(before) or _ORGANISATION_WORD.search(after)) and (
                _ORGANISATION_ADDRESS.search(before + " " + after)
            ):
                return True
        return letterheads.holds(span.start)

    def filter(
        self,
        scanned: ScannedText,
        spans: Sequence[Span],
        keyword_starts: list[int] | None = None,
        hint_hits: Mapping[str, list[tuple[int, int]]] | None = None,
    ) -> list[Span]:
        """``spans`` less those that are the hospital's own data.

        ``keyword_starts``: where :data:`REGISTRY_KEYWORDS` occur in ``scanned.lowered``, in
        order, if already known; ``hint_hits``: the occurrences of :data:`HINT_KEYWORDS`
        groups there, when ``scanned.lowered`` has the offsets of the text.
        """
        if not spans:
            # Most texts hold no identifier: the masks and letterheads are not worth building.
            return []
        text = scanned.text
        masks = _Masks(self._masks(scanned, keyword_starts))
        letterheads = _Letterheads(text)
        hints = _Hints(scanned, hint_hits if scanned.aligned else None)
        kept: list[Span] = []
        # Masks.overlaps inline: a long record holds thousands of spans.
        mask_starts, mask_ends = masks.starts, masks.ends
        for span in spans:
            if mask_starts:
                at = bisect.bisect_left(mask_starts, span.end) - 1
                if at >= 0 and mask_ends[at] > span.start:
                    continue
            # Only phones, e-mails and letterhead kinds can be institutional: the many names
            # and dates are kept without a method call each.
            if span.type in _FILTERED_KINDS and self._institutional(text, span, letterheads, hints):
                continue
            kept.append(span)
        return kept


class _Masks:
    """Stretches of text that are institutional whatever is found in them, merged into
    disjoint sorted intervals, so that each span is tested with one binary search (a long
    record holds thousands of spans and hundreds of registry numbers)."""

    def __init__(self, masks: list[tuple[int, int]]) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        for start, end in sorted(masks):
            if self.ends and start <= self.ends[-1]:
                self.ends[-1] = max(self.ends[-1], end)
            else:
                self.starts.append(start)
                self.ends.append(end)

    def __bool__(self) -> bool:
        return bool(self.starts)

    def overlaps(self, start: int, end: int) -> bool:
        """True when ``[start, end)`` shares a character with a mask."""
        # The last interval starting before ``end`` has the greatest end of those that do.
        at = bisect.bisect_left(self.starts, end) - 1
        return at >= 0 and self.ends[at] > start


def _bare_sirets(scanned: ScannedText) -> list[tuple[int, int]]:
    """The spans of ``_BARE_SIRET.finditer(text)`` that pass the Luhn test.

    Such a number is ASCII digits (Luhn rejects any other) and ends with a run of at least five
    of them, so it is searched for only in the few characters before each such run's end,
    instead of a regex pass over the whole text.
    """
    text = scanned.text
    spans: list[tuple[int, int]] = []
    for end in scanned.long_digit_run_ends(_SIRET_DIGITS, _SIRET_WIDTH):
        # 14 digits and up to 3 spaces; the end position + 1 lets the lookahead see text[end].
        match = _BARE_SIRET.search(text, max(0, end - _SIRET_WIDTH), end + 1)
        # A bare 14-digit number is a SIRET only if its Luhn digit says so.
        if match is not None and match.end() == end and luhn_valid(match.group().replace(" ", "")):
            spans.append(match.span())
    return spans


class _Letterheads:
    """Answers "does this offset lie in a letterhead?" for one text, remembering the answer
    for each line: the spans of a letterhead block share their lines."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._by_line: dict[int, bool] = {}
        self._about_patient: dict[int, bool] = {}

    def holds(self, position: int) -> bool:
        """True when ``position`` lies in a letterhead: its line, or one of the five above it,
        opens with an institution's name, and no line in between is blank or about the
        patient."""
        line_start = self._text.rfind("\n", 0, position) + 1
        known = self._by_line.get(line_start)
        if known is None:
            known = self._by_line[line_start] = self._walk(line_start)
        return known

    def _walk(self, line_start: int) -> bool:
        # Blank lines and openings are cheap to see; the patient-word search runs only on the
        # lines from the span's up to an opening, which gives the same answer as testing each
        # line for both in turn.
        text = self._text
        walked: list[tuple[int, str]] = []
        for _ in range(_MAX_BLOCK_LINES):
            line_end = text.find("\n", line_start)
            line = text[line_start : len(text) if line_end == -1 else line_end]
            if not line.strip():
                return False
            walked.append((line_start, line))
            if _opens_letterhead(line):
                return not any(self._is_about_patient(at, words) for at, words in walked)
            if line_start == 0:
                return False
            line_start = text.rfind("\n", 0, line_start - 1) + 1
        return False

    def _is_about_patient(self, line_start: int, line: str) -> bool:
        known = self._about_patient.get(line_start)
        if known is None:
            known = _BLOCK_END.search(line.lower()) is not None
            self._about_patient[line_start] = known
        return known


def _site_address(window: str, lo: int, hi: int, hints: _Hints) -> bool:
    """Whether an address whose ``window`` (lower-cased ``text[lo:hi]``) holds a site word is
    an organisation's: not when the window talks about the patient, nor when an address field
    ("Adresse :", "domicile") stands between the last site word and the address."""
    # "Le patient sera transféré au CH de X (1 rue ...)": the site word nearest the address
    # says whose it is, whoever the sentence began with.
    after = _last_end(_SITE_VETO, window)
    return after == 0 or hints.found(_SITE_WORDS, lo + after, hi)


def _last_end(pattern: re.Pattern[str], window: str) -> int:
    """Where the last match of ``pattern`` in ``window`` ends; 0 when none does."""
    end = 0
    for match in pattern.finditer(window):
        end = match.end()
    return end


def _line_start_within(text: str, position: int, width: int) -> int:
    """Where the at most ``width`` characters before ``position`` on its line begin."""
    return max(text.rfind("\n", 0, position) + 1, position - width)


class _Hints:
    """Answers "does this window of the text hold one of these words?" for one text, from
    the keyword index's hits when it has them, else by searching the window."""

    def __init__(
        self, scanned: ScannedText, hits: Mapping[str, list[tuple[int, int]]] | None
    ) -> None:
        self._scanned = scanned
        self._hits = hits
        self._present: dict[WordHints, bool] = {}
        self._organisation_words: bool | None = None
        self._indexes: dict[WordHints, HintIndex] = {}

    def organisation_words(self) -> bool:
        """False when the text holds none of what an organisation's postal address needs."""
        if self._organisation_words is None:
            lowered = self._scanned.lowered
            self._organisation_words = any(word in lowered for word in _ORGANISATION_WORDS)
        return self._organisation_words

    def present(self, hints: WordHints) -> bool:
        """False when the text holds none of ``hints`` anywhere (known from the index)."""
        if self._hits is None:
            return True
        known = self._present.get(hints)
        if known is None:
            known = self._present[hints] = any(
                self._hits[group] for group in hints.keyword_groups()
            ) or self._scanned.lowered.startswith(hints.openings)
        return known

    def found(self, hints: WordHints, lo: int, hi: int) -> bool:
        if self._hits is None:
            return hints.found_in(self._scanned.text[lo:hi].lower())
        index = self._indexes.get(hints)
        if index is None:
            index = self._indexes[hints] = hints.indexed(self._hits)
        return hints.found_indexed(self._scanned.lowered, index, lo, hi)


def _opens_letterhead(line: str) -> bool:
    """True when ``line`` begins with an institution's name, a service or a switchboard."""
    head = line[:24].lstrip(" \t").lower()
    # Only the openings sharing the head's first two characters can match: lines such as
    # "Chambre 12" or "Service de ..." are settled without walking the whole tuple, and
    # most of the others by one C-level startswith before any word-boundary test.
    openings = _OPENINGS_BY_PREFIX.get(head[:2])
    if openings is None or not head.startswith(openings):
        return False
    return any(
        head.startswith(o) and (len(head) == len(o) or not head[len(o)].isalnum()) for o in openings
    )
