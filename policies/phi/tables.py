"""Rows of pasted tables (CSV, TSV, pipes): the header, not a keyword, says what a cell holds.

A line whose cells include at least two column names such as NOM, PRÉNOM, DDN or IPP is a
header; each following line split by the same separator is a row, and the cell under a named
column is reported with that column's kind, until a line without the separator ends the table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from policies.spans import Span

from .keyword_search import matches_at
from .kinds import PhiKind
from .lexicons import strip_accents

_K = PhiKind
# Column names (lower-case, accent-free, inner blanks collapsed, "|"-separated) by the kind of
# their cells.
_COLUMN_NAMES = (
    (_K.PERSON, "nom|noms|nom de naissance|nom d'usage|nom usuel|nom patient|nom du patient"
     "|patient|patiente|name|surname|last name|family name|prenom|prenoms|first name|given name"
     "|medecin|medecin traitant|personne a prevenir|contact|nom prenom|nom/prenom|nom - prenom"
     "|identite"),
    (_K.BIRTHDATE, "ddn|d.d.n|date de naissance|date naissance|naissance|ne(e) le|ne le"
     "|nee le|dob|date of birth|birth date"),
    (_K.IPP, "ipp|n° patient|no patient|num patient|num. patient|numero patient|n° de patient"
     "|id patient|id|identifiant|identifiant patient|identifiant permanent|n° ipp|mrn|nip"
     "|n° nip|pid|code patient|ref patient|ref. patient|dossier patient|n° dossier patient"
     "|patient id|patient number|hospital number"),
    (_K.NDA, "nda|n° nda|venue|n° venue|n° de venue|sejour|n° sejour|n° de sejour|dossier"
     "|n° dossier|n° de dossier|nds|iep|id sejour|identifiant sejour|n° hospitalisation"
     "|n° d'hospitalisation|n° admission|n° d'admission|episode|n° episode|visit id"
     "|encounter|admission number"),
    (_K.DATE, "date entree|entree|date d'entree|date sortie|sortie|date de sortie"
     "|date admission|date d'admission|admission|date rdv|rdv|date"),
    (_K.PHONE, "tel|tel.|telephone|portable|mobile|phone|tel patient"),
    (_K.CITY, "ville|commune|city|ville de naissance|lieu de naissance"),
    (_K.ADDRESS, "adresse|address|domicile"),
    (_K.ZIP, "cp|code postal|postcode"),
    (_K.NIR, "nir|n° ss|n° secu|ins|nss"),
    (_K.EMAIL, "email|e-mail|mail|courriel"),
)  # fmt: skip
_COLUMNS = {name: kind.value for kind, names in _COLUMN_NAMES for name in names.split("|")}
# Kinds a cell must hold a digit for; the others must hold a letter and no digit.
_NUMERIC = frozenset(
    kind.value for kind in (_K.BIRTHDATE, _K.IPP, _K.NDA, _K.DATE, _K.PHONE, _K.ZIP, _K.NIR)
)
_FREE_TEXT = frozenset({_K.ADDRESS.value, _K.EMAIL.value})
# A column name after a separator (a header has at least two names, so one of them follows a
# separator): where a header may be. Matched in the lower-cased text where one of
# HEADER_KEYWORDS occurs; a whole-text search only for texts whose lower-cased copy has other
# offsets, since even a one-class regex pass costs ~10 ns a character.
_HEADER_CELL = re.compile(
    r"[;\t|,][ \t\"]*(?P<cell>(?:nom|pr[ée]nom|ddn|d\.d\.n|ipp|nda|date|n[ée]e?|dob|name|mrn|venue"
    r"|s[ée]jour|t[ée]l|ville|adresse|ins\b|nir|n[°º˚]|№|num|id|patient|m[ée]decin|portable|e-?mail"
    r"|nip|dossier|code|r[ée]f|iep|cp\b|hospital|[ée]pisode|visit|encounter)"
    r"[^;\t|,\n]{0,25})(?:[;\t|,]|$)",
    re.MULTILINE,
)
_HEADER_NAMES = (
    "nom", "prénom", "prenom", "ddn", "d.d.n", "ipp", "nda", "date", "né", "ne", "dob", "name",
    "mrn", "venue", "séjour", "sejour", "tél", "tel", "ville", "adresse", "ins", "nir", "n°",
    "num", "id", "patient", "médecin", "medecin", "portable", "e-mail", "email", "nip",
    "dossier", "code", "réf", "ref", "iep", "nº", "n˚", "№", "cp", "hospital", "épisode",
    "episode", "visit", "encounter",
)  # fmt: skip
# Every match of _HEADER_CELL starts with one of these.
HEADER_KEYWORDS = tuple(
    separator + blank + name
    for separator in (";", "\t", "|", ",")
    for blank in ("", " ", '"')
    for name in _HEADER_NAMES
)
_SEPARATORS = (";", "\t", "|", ",")
_MAX_CELL = 60
_MAX_HEADER = 400
_MAX_NAME = 40
_QUOTES = " \t\"'\r"


@lru_cache(maxsize=512)
def _column_kind(cell: str) -> str | None:
    name = " ".join(strip_accents(cell.strip(_QUOTES).lower()).split())
    # "N°" as keyboards write it: masculine ordinal, ring or numero sign.
    name = name.replace("nº", "n°").replace("n˚", "n°").replace("№", "n°")
    return _COLUMNS.get(name.rstrip(" :"))


def _cells(line: str, separator: str) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of each cell of ``line``, blanks and quotes trimmed."""
    at = 0
    for piece in line.split(separator):
        left = len(piece) - len(piece.lstrip(_QUOTES))
        right = len(piece.rstrip(_QUOTES))
        yield at + left, at + max(left, right)
        at += len(piece) + len(separator)


def _cell_ok(cell: str, kind: str) -> bool:
    if not cell or len(cell) > _MAX_CELL:
        return False
    if kind in _FREE_TEXT:
        return True
    has_digit = any(char.isdigit() for char in cell)
    if kind in _NUMERIC:
        return has_digit
    return not has_digit and any(char.isalpha() for char in cell)


def find_table_cells(
    text: str, lowered: str, keyword_starts: list[int] | None = None
) -> Iterator[Span]:
    """Spans of the identifying cells of every table whose header names its columns.

    ``lowered`` is ``text.lower()``; ``keyword_starts``: where :data:`HEADER_KEYWORDS` occur
    in it, in order, when it has the offsets of ``text``; None to search it whole.
    """
    seen_headers: set[int] = set()
    hits = (
        _HEADER_CELL.finditer(lowered)
        if keyword_starts is None
        else matches_at(_HEADER_CELL, lowered, keyword_starts)
    )
    for hit in hits:
        # Most hits are prose after a comma (", patient de 45 ans,"): not a column name.
        if _column_kind(hit.group("cell")) is None:
            continue
        line_start = text.rfind("\n", 0, hit.start()) + 1
        if line_start in seen_headers:
            continue
        seen_headers.add(line_start)
        line_end = text.find("\n", line_start)
        line_end = len(text) if line_end == -1 else line_end
        header = text[line_start:line_end]
        # A header is a short line of short cells; a paragraph holding ", date" is not one.
        if line_end - line_start > _MAX_HEADER:
            continue
        separator = max(_SEPARATORS, key=header.count)
        kinds = [
            _column_kind(header[a:b]) if b - a <= _MAX_NAME else None
            for a, b in _cells(header, separator)
        ]
        if sum(kind is not None for kind in kinds) < 2:
            continue
        yield from _rows(text, line_end + 1, separator, kinds)


def _rows(text: str, at: int, separator: str, kinds: list[str | None]) -> Iterator[Span]:
    while at < len(text):
        end = text.find("\n", at)
        end = len(text) if end == -1 else end
        line = text[at:end]
        if separator not in line:
            return
        for (a, b), kind in zip(_cells(line, separator), kinds, strict=False):
            if kind is not None and _cell_ok(line[a:b], kind):
                yield Span(at + a, at + b, kind)
        at = end + 1
