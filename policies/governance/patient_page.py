"""The page for patients and the public: the AI uses in production that may touch their data.

Plain French HTML, no script, every value escaped (the register is typed by staff; the page is
public). What is listed is decided here; the gateway serves only the version a person published.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from policies.governance.register import PATIENT_DATA_CLASSES, Lifecycle
from policies.hosting import HostingClass

# Where a model runs, as a patient would read it.
HOSTING_WORDS = {
    HostingClass.ON_PREMISE: "sur les serveurs de l'établissement",
    HostingClass.HDS_CERTIFIED: "chez un hébergeur certifié pour les données de santé (HDS)",
    HostingClass.EU_CLOUD: "dans un nuage informatique situé dans l'Union européenne",
    HostingClass.NON_EU: "chez un prestataire hors de l'Union européenne",
}


@dataclass(frozen=True, slots=True)
class PatientEntry:
    """One AI use as the page shows it."""

    name: str
    purpose: str
    service: str
    hosting: tuple[str, ...]  # words of HOSTING_WORDS, with the region when known
    legal_basis: str


def is_listed(status: Lifecycle, data_classes: Sequence[str]) -> bool:
    """A use in production that may process personal or health data is shown to patients."""
    return status is Lifecycle.PRODUCTION and bool(PATIENT_DATA_CLASSES & set(data_classes))


def hosting_words(hosting_class: HostingClass, region: str) -> str:
    words = HOSTING_WORDS[hosting_class]
    return f"{words} ({region})" if region else words


def render_page(entries: Sequence[PatientEntry], *, hospital: str, contact: str) -> str:
    """The whole page; a hospital with no listed use says so."""
    items = "".join(_entry(e) for e in entries) or (
        "<p>Aucun usage de l'intelligence artificielle portant sur vos données n'est "
        "actuellement en service.</p>"
    )
    return (
        '<!doctype html>\n<html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Usages de l'intelligence artificielle</title>"
        "<style>body{font-family:sans-serif;max-width:48rem;margin:auto;padding:1rem;"
        "line-height:1.5}h2{margin-top:2rem}</style></head><body><main>"
        "<h1>Usages de l'intelligence artificielle</h1>"
        f"<p>Établissement : {escape(hospital)}</p>"
        "<p>Cette page liste les outils d'intelligence artificielle en service qui peuvent "
        "traiter des données personnelles ou de santé des patients.</p>"
        f"{items}"
        "<h2>Vos droits</h2>"
        "<p>Vous pouvez vous opposer à l'utilisation de ces outils pour vos données, ou poser "
        f"vos questions. Contact : {escape(contact)}.</p>"
        "</main></body></html>\n"
    )


def _entry(entry: PatientEntry) -> str:
    where = "; ".join(entry.hosting) or "non précisé"
    return (
        "<section>"
        f"<h2>{escape(entry.purpose or entry.name)}</h2><dl>"
        f"<dt>Service</dt><dd>{escape(entry.service or 'non précisé')}</dd>"
        f"<dt>Où fonctionne l'outil</dt><dd>{escape(where)}</dd>"
        f"<dt>Base légale</dt><dd>{escape(entry.legal_basis or 'non précisée')}</dd>"
        "</dl></section>"
    )
