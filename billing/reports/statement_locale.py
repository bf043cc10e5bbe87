"""Words and number formats of the statements, in French (default) and English.

French follows the conventions of French finance software and Excel: a comma before the
decimals, a narrow no-break space between thousands, ``;`` between CSV fields (Excel in a
French locale opens a comma-separated file in one column otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from billing.money import to_cents

Lang = Literal["fr", "en"]
LANGS: tuple[Lang, ...] = ("fr", "en")
_THIN = "\u202f"

_MONTHS = {
    "fr": [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}


@dataclass(frozen=True, slots=True)
class Locale:
    """How one language writes numbers, dates and CSV files."""

    lang: Lang
    decimal: str
    thousands: str
    csv_delimiter: str

    def number(self, value: Decimal, places: int | None = None) -> str:
        """``value`` with ``places`` decimals (None: as many as it has, at most six)."""
        if places is None:
            shown = value.quantize(Decimal("0.000001")).normalize()
            if shown == shown.to_integral_value():
                shown = shown.quantize(Decimal(1))
            text = f"{shown:,f}"
        else:
            text = f"{value:,.{places}f}"
        return text.replace(",", "\0").replace(".", self.decimal).replace("\0", self.thousands)

    def money(self, value: Decimal) -> str:
        """An amount in cents with the euro sign (``10 784,50 €``)."""
        return f"{self.number(to_cents(value), 2)}\u00a0€"

    def plain(self, value: Decimal) -> str:
        """A decimal for a CSV cell: no thousands separator, the locale's decimal mark."""
        text = format(value, "f")
        return text.replace(".", self.decimal)

    def day(self, value: date) -> str:
        """``1er octobre 2026`` / ``1 October 2026``."""
        number = "1er" if self.lang == "fr" and value.day == 1 else str(value.day)
        return f"{number} {_MONTHS[self.lang][value.month - 1]} {value.year}"

    def short_day(self, value: date) -> str:
        """``01/10/2026`` / ``2026-10-01``."""
        return value.strftime("%d/%m/%Y") if self.lang == "fr" else value.isoformat()

    def month(self, value: date) -> str:
        """``octobre 2026`` / ``October 2026``."""
        return f"{_MONTHS[self.lang][value.month - 1]} {value.year}"


LOCALES = {
    "fr": Locale("fr", ",", _THIN, ";"),
    "en": Locale("en", ".", ",", ","),
}


def locale_of(lang: str) -> Locale:
    """The locale of ``lang``; ValueError for a language the statements are not written in."""
    try:
        return LOCALES[lang]
    except KeyError:
        raise ValueError(f"statements are written in {', '.join(LANGS)}, not {lang!r}") from None


WORDS: dict[str, dict[str, str]] = {
    "title": {"fr": "Relevé de refacturation interne", "en": "Internal chargeback statement"},
    "number": {"fr": "Relevé n°", "en": "Statement no."},
    "issued": {"fr": "Établi le", "en": "Issued on"},
    "issuer": {"fr": "Émetteur", "en": "Issuer"},
    "department": {"fr": "Service", "en": "Department"},
    "cost_centre": {"fr": "Centre de coût", "en": "Cost centre"},
    "no_cost_centre": {"fr": "non renseigné", "en": "not set"},
    "period": {"fr": "Période", "en": "Period"},
    "period_text": {
        "fr": "du {first} au {last} inclus (heure de {tz})",
        "en": "{first} to {last} inclusive ({tz} time)",
    },
    "closed": {
        "fr": "DÉFINITIF \u2014 mois clôturé le {day}",
        "en": "FINAL \u2014 month closed on {day}",
    },
    "provisional": {
        "fr": "PROVISOIRE \u2014 mois non clôturé : les montants peuvent encore changer",
        "en": "PROVISIONAL \u2014 month not closed: amounts may still change",
    },
    "transfer_note": {
        "fr": "Cession interne entre services de l'établissement : ce relevé n'est pas une "
        "facture et n'est pas soumis à la TVA.",
        "en": "Internal transfer between departments of the organisation: this statement is "
        "not an invoice and bears no VAT.",
    },
    "summary": {"fr": "Récapitulatif", "en": "Summary"},
    "external": {"fr": "Fournisseurs externes (prix par jeton)", "en": "External providers"},
    "onprem": {
        "fr": "Usage sur site (prix de cession par jeton)",
        "en": "On-premise usage (transfer price per token)",
    },
    "dedicated": {"fr": "GPU dédiés au service", "en": "GPUs dedicated to the department"},
    "true_up": {
        "fr": "Quote-part de capacité GPU (régularisation mensuelle)",
        "en": "GPU capacity share (monthly true-up)",
    },
    "corrections": {"fr": "Corrections de mois clôturés", "en": "Corrections of closed months"},
    "total": {"fr": "Total à refacturer", "en": "Total charged"},
    "budget": {"fr": "Budget", "en": "Budget"},
    "variance": {"fr": "Écart (budget \u2212 total)", "en": "Variance (budget \u2212 total)"},
    "by_use_case": {"fr": "Détail par cas d'usage et modèle", "en": "By use case and model"},
    "use_case": {"fr": "Cas d'usage", "en": "Use case"},
    "model": {"fr": "Modèle", "en": "Model"},
    "hosting": {"fr": "Hébergement", "en": "Hosting"},
    "hosting_on_premise": {"fr": "sur site", "en": "on premise"},
    "hosting_eu_cloud": {"fr": "cloud UE", "en": "EU cloud"},
    "hosting_non_eu": {"fr": "hors UE", "en": "outside the EU"},
    "requests": {"fr": "Requêtes", "en": "Requests"},
    "tokens": {"fr": "Jetons", "en": "Tokens"},
    "amount": {"fr": "Montant", "en": "Amount"},
    "no_use_case": {"fr": "(non précisé)", "en": "(none)"},
    "lines": {"fr": "Lignes du relevé", "en": "Statement lines"},
    "description": {"fr": "Désignation", "en": "Description"},
    "quantity": {"fr": "Quantité", "en": "Quantity"},
    "unit_price": {"fr": "Prix unitaire", "en": "Unit price"},
    "tariff": {"fr": "Tarif", "en": "Price"},
    "converted": {"fr": "{price} au taux de {rate}", "en": "{price} at {rate}"},
    "per_million": {"fr": "par million de jetons", "en": "per million tokens"},
    "per_gpu_hour": {"fr": "par heure GPU", "en": "per GPU-hour"},
    "token_unit": {"fr": "jetons", "en": "tokens"},
    "gpu_hours": {"fr": "heures GPU", "en": "GPU-hours"},
    "tariff_of": {"fr": "tarif du {day}", "en": "price of {day}"},
    "internal_tariff": {"fr": "prix de cession interne", "en": "internal transfer price"},
    "pool_cost": {"fr": "coût réel du pool", "en": "pool's actual cost"},
    "input": {"fr": "Jetons d'entrée", "en": "Input tokens"},
    "cached_input": {"fr": "Jetons d'entrée en cache", "en": "Cached input tokens"},
    "output": {"fr": "Jetons de sortie", "en": "Output tokens"},
    "gpu_time": {"fr": "Temps GPU dédié", "en": "Dedicated GPU time"},
    "correction": {"fr": "Correction", "en": "Correction"},
    "method": {"fr": "Méthode de la régularisation", "en": "How the true-up is computed"},
    "method_pool": {
        "fr": "Pool {pool} : {gpus} GPU \u00d7 {hours} heures = {gpu_hours} heures GPU. "
        "Coût réel du mois : {cost}, soit amortissement {amortisation}, "
        "énergie (PUE inclus) {energy}, hébergement {hosting}, personnel {staff}.",
        "en": "Pool {pool}: {gpus} GPUs \u00d7 {hours} hours = {gpu_hours} GPU-hours. Actual cost "
        "of the month: {cost}: amortisation {amortisation}, energy (PUE included) {energy}, "
        "hosting {hosting}, staff {staff}.",
    },
    "method_shared": {
        "fr": "Part partagée du pool : {shared}. Les requêtes de tous les services en ont déjà "
        "payé {transfers} au prix de cession ; l'écart de {difference} (capacité inutilisée "
        "si positif, sur-recouvrement si négatif) est réparti au prorata des jetons pondérés.",
        "en": "Shared part of the pool: {shared}. Every department's requests already paid "
        "{transfers} of it at the transfer price; the difference of {difference} (idle "
        "capacity when positive, over-recovery when negative) is shared by weighted tokens.",
    },
    "method_share": {
        "fr": "Votre service : {weighted} jetons pondérés sur {all_weighted}, soit {share} % "
        "de l'usage partagé, d'où une quote-part de {amount}.",
        "en": "Your department: {weighted} of {all_weighted} weighted tokens, i.e. {share} % "
        "of the shared use, hence a share of {amount}.",
    },
    "method_unallocated": {
        "fr": "L'écart est porté sur une ligne « capacité non allouée » de l'établissement, "
        "hors relevés de service.",
        "en": "The difference goes to one organisation-wide 'unallocated capacity' line, "
        "outside the departments' statements.",
    },
    "method_dedicated": {
        "fr": "GPU dédiés à votre service : {gpus} GPU \u00d7 {hours} heures, "
        "payés entiers : {amount}.",
        "en": "GPUs dedicated to your department: {gpus} GPUs \u00d7 {hours} hours, paid whole: "
        "{amount}.",
    },
}


def word(key: str, locale: Locale, **values: str) -> str:
    """The text ``key`` in the locale's language, with ``values`` filled in."""
    text = WORDS[key][locale.lang]
    return text.format(**values) if values else text
