"""Administrative shapes the ward documents lack: patient and stay numbers in the many ways
hospital software and staff write them (label, barcode and request slips, transport orders,
short prompts whose only identifier is a number), addresses and phone numbers in their other
forms, and identifier-free slips full of numbers that are no one's (orders, units, doses).

Labels follow the README's policy: only the patient's own data is gold."""

from __future__ import annotations

import random
from collections.abc import Callable

from tests.phi import fakes
from tests.phi import lookalikes as look
from tests.phi.labelled_doc import Doc

# "N°" as keyboards and software write it: degree sign, masculine ordinal, ring, numero sign.
_NUMBER_SIGNS = ["N°", "Nº", "n°", "nº", "N˚", "No", "N°", "№", "Num.", "Numéro"]
_IPP_LABELS = [
    "IPP", "I.P.P.", "NIP", "N.I.P.", "ID", "Id patient", "ID patient", "{n} patient",
    "{n} de patient", "{n} du patient", "Identifiant", "Identifiant patient", "Code patient",
    "Réf. patient", "Réf. dossier patient", "Dossier patient", "{n} IPP", "Patient {n}",
    "N° d'identification", "Numéro permanent", "Identifiant permanent", "PID", "MRN",
]  # fmt: skip
_NDA_LABELS = [
    "NDA", "N.D.A.", "Venue", "Venue {n}", "{n} de venue", "{n} venue", "Séjour", "Séjour {n}",
    "{n} de séjour", "{n} séjour", "Dossier", "Dossier {n}", "{n} dossier", "{n} de dossier",
    "Hospitalisation {n}", "{n} d'hospitalisation", "{n} hospitalisation", "Identifiant séjour",
    "Identifiant de séjour", "ID séjour", "{n} d'admission", "Admission {n}", "Passage {n}",
    "{n} de passage", "IEP", "NDS", "Épisode {n}", "{n} d'entrée",
]  # fmt: skip
_COLONS = [" : ", " ", ": ", " :", "\u00a0: ", " = ", " - "]
_SLIPS = [
    "Demande d'examen de biologie", "Bon de transport", "Demande de consultation",
    "Étiquette", "Bon de commande nominatif", "Demande d'imagerie", "Feuille de liaison",
    "Fiche de traçabilité", "Bon de sortie", "Demande de brancardage", "Dispensation nominative",
]  # fmt: skip
_PROMPTS = [
    "Peux-tu résumer le dossier {label}{colon}{id} ?",
    "Synthèse du séjour pour {label}{colon}{id}",
    "Rédige la lettre de liaison ({label}{colon}{id}).",
    "Vérifie les prescriptions du patient {id}",
    "Résultats à rattacher : {label}{colon}{id}",
    "Merci de compléter {label}{colon}{id} avant la sortie",
    "{label}{colon}{id} - transfert prévu demain en SSR",
    "Relance facturation {label}{colon}{id}",
]


def _label(labels: list[str], rng: random.Random) -> str:
    return rng.choice(labels).format(n=rng.choice(_NUMBER_SIGNS))


def patient_number(rng: random.Random) -> str:
    """An IPP as hospital information systems print it."""
    digits = rng.choice([7, 8, 9, 10, 6])
    number = f"{rng.randint(0, 10**digits - 1):0{digits}d}"
    style = rng.random()
    if style < 0.1:
        return rng.choice("PAGH") + number[:8]
    if style < 0.15:
        return f"{number[:3]} {number[3:6]} {number[6:]}" if digits >= 9 else number
    return number


def stay_number(rng: random.Random) -> str:
    """An NDA: year-led, grouped or plain."""
    year = rng.randint(2019, 2026)
    style = rng.random()
    if style < 0.5:
        return f"{year}{rng.randint(0, 999999):06d}"
    if style < 0.65:
        return f"{year}-{rng.randint(0, 999999):06d}"
    if style < 0.8:
        return f"{year % 100}{rng.randint(0, 9999999):07d}"
    if style < 0.9:
        return f"{year % 100}-{rng.randint(0, 99999):05d}"
    return f"{rng.randint(10**7, 10**9 - 1)}"


def _number_line(doc: Doc, rng: random.Random, *, ipp: bool) -> None:
    label = _label(_IPP_LABELS if ipp else _NDA_LABELS, rng)
    doc.add(label + rng.choice(_COLONS))
    doc.phi(patient_number(rng) if ipp else stay_number(rng), "IPP" if ipp else "NDA")


def number_slip(rng: random.Random) -> Doc:
    """A request, transport or label slip whose only identifiers are the patient's numbers."""
    doc = Doc("number_slip")
    doc.add(rng.choice(_SLIPS) + rng.choice(["\n", " — ", "\n\n", " | "]))
    fields = [("ipp", True), ("nda", False)]
    rng.shuffle(fields)
    for _, ipp in fields[: rng.randint(1, 2)]:
        _number_line(doc, rng, ipp=ipp)
        doc.add(rng.choice(["\n", " — ", " | ", "   ", "\n"]))
    doc.add(rng.choice([
        f"Service : {rng.choice(look.SERVICES)}\n", "Prélèvement à jeun.\n",
        f"UF {rng.randint(1000, 9999)}\n", "Transport assis, retour à domicile prévu.\n",
        f"Examen : {rng.choice(['scanner thoracique', 'IRM cérébrale', 'ETT', 'EEG'])}\n",
        f"Chambre {rng.randint(100, 499)} - lit {rng.choice('AB')}\n",
    ]))  # fmt: skip
    if rng.random() < 0.5:
        doc.add(look.clinical_paragraph(rng, rng.randint(1, 3)))
    return doc


def number_prompt(rng: random.Random) -> Doc:
    """A one-line request to the assistant that names the patient only by a number."""
    doc = Doc("number_prompt")
    template = rng.choice(_PROMPTS)
    # Without a label, the number after "du patient" is the patient's own.
    ipp = rng.random() < 0.55 or "{label}" not in template
    label = _label(_IPP_LABELS if ipp else _NDA_LABELS, rng)
    number = patient_number(rng) if ipp else stay_number(rng)
    if "{label}" not in template:
        label = ""
    head, tail = template.split("{id}")
    doc.add(head.format(label=label, colon=rng.choice(_COLONS)))
    doc.phi(number, "IPP" if ipp else "NDA").add(tail)
    if rng.random() < 0.4:
        doc.add(" " + look.clinical_paragraph(rng, 1))
    return doc


def _phone(rng: random.Random) -> str:
    digits = f"0{rng.choice('1234567')}{rng.randint(0, 10**8 - 1):08d}"
    pairs = [digits[i : i + 2] for i in range(0, 10, 2)]
    style = rng.random()
    if style < 0.2:
        return "+33 " + digits[1] + " " + " ".join(pairs[1:])
    if style < 0.3:
        return "+33 (0)" + digits[1] + " " + " ".join(pairs[1:])
    if style < 0.4:
        return "+33" + digits[1:]
    if style < 0.55:
        return ".".join(pairs)
    if style < 0.65:
        return "-".join(pairs)
    if style < 0.75:
        return digits
    return " ".join(pairs)


def contact_card(rng: random.Random) -> Doc:
    """The patient's and relatives' contact details as admission software lays them out."""
    doc = Doc("contact_card")
    doc.add(rng.choice(["Coordonnées\n", "Personne à prévenir\n", "CONTACTS\n", ""]))
    doc.add(rng.choice(["Tél. domicile : ", "Tel dom ", "Portable : ", "Mobile: ", "Tél : "]))
    doc.phi(_phone(rng), "PHONE").add("\n")
    if rng.random() < 0.6:
        relative = rng.choice(["fille", "fils", "épouse", "époux", "voisine", "nièce"])
        doc.add(f"Personne de confiance ({relative}) : ")
        doc.phi(_phone(rng), "PHONE").add("\n")
    if rng.random() < 0.5:
        doc.add(rng.choice(["Adresse : ", "Domicile : ", "Adresse postale : "]))
        if rng.random() < 0.3:
            doc.add(
                rng.choice(["Résidence les Tilleuls, bât. B, ", "Appt 12, ", "Chez sa fille, "])
            )
        doc.phi(fakes.street(rng), "ADDRESS").add(rng.choice([", ", " ", "\n"]))
        doc.phi(fakes.postcode(rng), "ZIP").add(" ")
        town = rng.choice(fakes.LEXICON_CITIES)
        doc.phi(town.upper() if rng.random() < 0.5 else town, "CITY").add("\n")
    doc.add(rng.choice([
        f"Standard de l'hôpital : {_phone(rng)}\n",
        f"Secrétariat (poste {rng.randint(1000, 9999)})\n",
        "",
        "Urgences : 15 ou 112\n",
    ]))  # fmt: skip
    return doc


def clean_slip(rng: random.Random) -> Doc:
    """An order, stock or unit slip: many numbers, none of them a patient's."""
    doc = Doc("clean_slip")
    lines = [
        f"Commande n° {rng.randint(10**6, 10**7 - 1)} - {rng.choice(look.DRUGS)}",
        f"Code UF : {rng.randint(1000, 9999)} - Centre de coût {rng.randint(10000, 99999)}",
        f"Héparine {rng.choice([5000, 10000, 25000])} UI/24h",
        f"Plaquettes {rng.randint(150, 450)} 000/mm3",
        f"Code article {rng.randint(10000, 99999)} - quantité {rng.randint(1, 50)}",
        f"Réf. fournisseur {rng.randint(100000, 999999)}",
        f"Lot {look.lot(rng)} - CIP {look.cip13(rng)}",
        f"Protocole PRO-{rng.choice(['PHA', 'SOI', 'HYG'])}-{rng.randint(1, 99):03d}"
        f" version {rng.randint(1, 9)}",
        f"Séjour moyen : {rng.randint(2, 12)} jours - {rng.randint(100, 900)} séjours"
        f" en {rng.randint(2019, 2025)}",
        f"Dossier de soins informatisé : {rng.choice(['version', 'mise à jour'])}"
        f" {rng.randint(2, 9)}.{rng.randint(0, 9)}",
        f"Pompe {rng.choice(['PCA', 'volumétrique'])} n° d'inventaire"
        f" {rng.choice('ABCD')}{rng.randint(1000, 9999)}",
        f"Capacité : {rng.randint(12, 40)} lits, {rng.randint(10000, 40000)} passages par an",
    ]  # fmt: skip
    doc.add(rng.choice(["Bon de commande\n", "Inventaire pharmacie\n", "Activité du service\n"]))
    doc.add("\n".join(rng.sample(lines, rng.randint(3, 7))) + "\n")
    return doc


def _organisation_address(rng: random.Random) -> str:
    return f"{fakes.street(rng)}, {fakes.postcode(rng)} {rng.choice(fakes.LEXICON_CITIES)}"


def clean_notice(rng: random.Random) -> Doc:
    """A notice or protocol about patients in general: the organisations' addresses and lines,
    and the communes a rule applies to, are no one's."""
    doc = Doc("clean_notice")
    town = rng.choice(fakes.LEXICON_CITIES)
    titles = ["Note d'information aux patients", "PROTOCOLE DE SERVICE", "Fiche pratique pharmacie"]
    doc.add(rng.choice(titles) + "\n")
    lines = [
        "Tout patient admis aux urgences bénéficie d'un bilan biologique.",
        f"Les prélèvements sont envoyés au laboratoire {rng.choice(['Biomnis', 'Cerba'])}, "
        f"{_organisation_address(rng)}.",
        f"Fournisseur : Laboratoires {rng.choice(['Aguettant', 'Baxter', 'Fresenius'])}, "
        f"{_organisation_address(rng)}. Tél. {_phone(rng)}.",
        f"Les patients résidant à {town} sont orientés vers le CMP de secteur.",
        f"Les familles habitant {rng.choice(['à', 'près de'])} {town} peuvent utiliser la navette.",
        f"Adresse de livraison : Magasin central, {_organisation_address(rng)}.",
        f"Centre de référence : Hôpital {rng.choice(['Nord', 'Sud', 'Pasteur'])}, "
        f"{_organisation_address(rng)}.",
        f"Société {rng.choice(['Medtronic', 'Vygon', 'B. Braun'])} - service client. "
        f"Tél : {_phone(rng)}",
        "Les patients doivent rapporter leurs traitements personnels.",
        f"Pour les patients : parking gratuit au {_organisation_address(rng)}.",
        f"Les patients sont accueillis à l'hôpital de jour, {fakes.street(rng)}, "
        f"{rng.choice(fakes.LEXICON_CITIES)}.",
        f"Réunion de concertation le {rng.randint(1, 28)}/{rng.randint(1, 12):02d}/2024 à 14h.",
        f"Fait à {town}, le {rng.randint(1, 28)} mars 2024",
        f"Le patient peut joindre l'infirmière de coordination au {_phone(rng)}.",
    ]
    doc.add("\n".join(rng.sample(lines, rng.randint(3, 6))) + "\n")
    return doc


def _day(rng: random.Random) -> str:
    return f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2022, 2026)}"


def clean_policy(rng: random.Random) -> Doc:
    """A policy or a memo: its dates are the document's, its rules are for every patient."""
    doc = Doc("clean_policy")
    month = rng.choice(["January", "March", "June", "October"])
    lines = [
        f"Policy: {rng.choice(['Management of suspected sepsis', 'Falls prevention'])}",
        f"Effective date: {rng.randint(1, 28)} {month} 2024. Review date: {_day(rng)}.",
        f"Approved by the Clinical Governance Committee on {_day(rng)}.",
        f"Issued: {_day(rng)} - Last updated: {_day(rng)} - Next review: {month} 2026",
        "All patients must be screened on admission.",
        f"Note de service du {_day(rng)}",
        f"À compter du {_day(rng)}, les patients programmés seront accueillis au bloc A.",
        "Les patients doivent être informés de la fermeture du parking.",
        f"Ordre du jour de la réunion du {_day(rng)} : circuit du médicament.",
    ]
    doc.add("\n".join(rng.sample(lines, rng.randint(3, 6))) + "\n")
    return doc


def transfer_note(rng: random.Random) -> Doc:
    """A transfer or referral note: the patient's data beside the receiving site's."""
    doc = Doc("transfer_note")
    doc.add(rng.choice(["Le patient ", "La patiente ", "Mme ", "M. "]))
    doc.phi(f"{fakes.surname(rng).upper()} {fakes.first_name(rng)}", "PERSON")
    site = rng.choice(
        ["au CH de", "à l'hôpital", "aux urgences de l'hôpital", "en SSR à la clinique"]
    )
    doc.add(f" sera transféré(e) {site} {rng.choice(fakes.LEXICON_CITIES)} (")
    doc.add(_organisation_address(rng) + ")")
    doc.add(rng.choice([" le ", ", prévu le "])).phi(
        f"{rng.randint(1, 28)}/{rng.randint(1, 12):02d}/2024", "DATE"
    )
    doc.add(". Il pourra joindre l'infirmière de coordination au " + _phone(rng) + ".\n")
    if rng.random() < 0.5:
        doc.add("Personne à prévenir, sa fille : ").phi(_phone(rng), "PHONE").add("\n")
    return doc


BEARING: list[tuple[Callable[[random.Random], Doc], int]] = [
    (number_slip, 3),
    (number_prompt, 3),
    (contact_card, 2),
    (transfer_note, 2),
]
CLEAN: list[Callable[[random.Random], Doc]] = [clean_slip, clean_notice, clean_policy]
