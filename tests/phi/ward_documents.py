"""Document shapes from the wards that the first corpus lacked (issue 15): pasted tables,
lower-case prompts, letters with initials, nursing notes, and protocols or pharmacy notes full of
the hospital's own contact data. Labels follow the README's policy: the hospital's own numbers,
mailboxes and addresses, product lots and document dates are not identifiers."""

from __future__ import annotations

import random
from collections.abc import Callable

from tests.phi import admin_documents as admin
from tests.phi import fakes
from tests.phi import lookalikes as look
from tests.phi.labelled_doc import Doc

RELATIVES = [
    "son époux", "son épouse", "son mari", "sa femme", "sa fille", "son fils", "sa sœur",
    "son frère", "sa mère", "son père", "sa compagne", "son compagnon", "sa nièce", "son neveu",
    "sa belle-fille", "son conjoint",
]  # fmt: skip
HEADINGS = [
    "OBJET", "DOMAINE D'APPLICATION", "RESPONSABILITÉS", "MODE OPÉRATOIRE", "MATÉRIEL",
    "TRAÇABILITÉ", "RÉFÉRENCES", "DIFFUSION", "DÉFINITIONS", "PRÉPARATION", "CONSERVATION",
    "SURVEILLANCE", "ADMINISTRATION", "STOCKAGE", "ÉLIMINATION", "CONDUITE À TENIR",
    "INDICATIONS", "CONTRE-INDICATIONS", "RAPPEL", "ANNEXE", "PERSONNES RESSOURCES", "CIRCUIT",
    "LIVRAISON", "CONTACTS UTILES",
]  # fmt: skip
ROLES = [
    "Mme la Cadre de santé", "M. le Directeur des soins", "Mme la Directrice",
    "M. le Pharmacien gérant", "Mme la Cadre supérieure", "M. le Président de la CME",
    "Mme la Responsable qualité", "M. le Chef de service", "Mme la Coordinatrice",
]  # fmt: skip
_SERVICE_LINES = [
    "pharmacie", "pharmacie centrale", "secrétariat", "cadre de santé", "standard",
    "bloc opératoire", "laboratoire", "unité de stérilisation", "service d'accueil", "PUI",
    "astreinte pharmaceutique", "interne de garde",
]  # fmt: skip


def _numeric_date(rng: random.Random, *, birth: bool = False) -> str:
    year = rng.randint(1930, 2005) if birth else rng.randint(2019, 2025)
    return f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{year}"


def _care_day(rng: random.Random) -> str:
    """A date of care with no year, as nurses write it."""
    day, month = rng.randint(1, 28), rng.randint(1, 12)
    if rng.random() < 0.6:
        return f"{day:02d}/{month:02d}"
    months = [
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
    ]
    return f"{day} {months[month - 1]}"


def hospital_phone(rng: random.Random) -> str:
    return fakes.phone(rng, mobile=False)


def lot_like_phone(rng: random.Random) -> str:
    """A product batch number shaped like a mobile number."""
    digits = f"0{rng.choice('67')}" + "".join(rng.choice("0123456789") for _ in range(8))
    return digits if rng.random() < 0.6 else " ".join(digits[i : i + 2] for i in range(0, 10, 2))


def _town_domain(rng: random.Random) -> tuple[str, str]:
    town = rng.choice(fakes.LEXICON_CITIES)
    return town, "chu-" + fakes.ascii_fold(town).lower().replace(" ", "-").replace("'", "") + ".fr"


def institutional_sentence(rng: random.Random) -> str:
    """A sentence of running text quoting the hospital's own contact data."""
    town, domain = _town_domain(rng)
    service = rng.choice(_SERVICE_LINES)
    mailbox = rng.choice(
        [
            "pharmacie",
            "pharmacie.sterilisation",
            "secretariat.medecine",
            "cadre.cardio",
            "bloc-operatoire",
            "accueil.urgences",
            "labo.bacterio",
            "pui",
            "dim",
            "qualite",
        ]
    )
    return rng.choice(
        [
            f"Contact {service} : {hospital_phone(rng)}.",
            f"En cas de besoin, {service} joignable 24h/24 au {hospital_phone(rng)}.",
            f"Interne de garde joignable 24h/24 au {fakes.phone(rng, mobile=True)}.",
            f"Pharmacien d'astreinte : {fakes.phone(rng, mobile=True)} (nuits et week-ends).",
            f"Prévenir le cadre (bip {rng.randint(1000, 9999)}) ou le poste "
            f"{rng.randint(1000, 9999)}.",
            f"Fax de la {service} : {hospital_phone(rng)}.",
            f"Standard de l'hôpital : {hospital_phone(rng)}, demander le poste "
            f"{rng.randint(1000, 9999)}.",
            f"Toute question peut être adressée à {mailbox}@{domain}.",
            f"Envoyer les commandes à {mailbox}@{domain} avant 14h.",
            f"Les prélèvements sont à déposer au laboratoire, {fakes.street(rng)}, "
            f"{fakes.postcode(rng)} {town}.",
            f"Adresse de livraison des échantillons : plateforme logistique, {fakes.street(rng)}, "
            f"{fakes.postcode(rng)} {town}.",
            f"Lot n° {lot_like_phone(rng)}, péremption "
            f"{rng.randint(1, 12):02d}/{rng.randint(25, 29)}.",
            f"Numéro de lot {lot_like_phone(rng)} à reporter sur la fiche de traçabilité.",
            f"Protocole validé le {_numeric_date(rng)} par {rng.choice(ROLES)}.",
            f"Version {rng.randint(1, 6)} du {_numeric_date(rng)}, date d'application : "
            f"{_numeric_date(rng)}.",
            f"Rédigé par {rng.choice(ROLES)}, vérifié par {rng.choice(ROLES)}.",
            f"Mise à jour du {_numeric_date(rng)} ; prochaine révision le {_numeric_date(rng)}.",
        ]
    )


def _table_cell(doc: Doc, rng: random.Random, column: str, row: dict[str, str]) -> None:
    if column in _IPP_COLUMNS:
        doc.phi(row["ipp"], "IPP")
    elif column in _NDA_COLUMNS:
        doc.phi(fakes.nda(rng) if rng.random() < 0.5 else admin.stay_number(rng), "NDA")
    elif column in {"NOM", "Nom", "nom"}:
        doc.phi(row["last"], "PERSON")
    elif column in {"PRENOM", "Prénom", "prénom"}:
        doc.phi(row["first"], "PERSON")
    elif column in {"DDN", "Date de naissance", "Né(e) le"}:
        doc.phi(_numeric_date(rng, birth=True), "BIRTHDATE")
    elif column in {"ENTREE", "Date entrée"}:
        doc.phi(_numeric_date(rng), "DATE")
    elif column in {"TEL", "Téléphone"}:
        doc.phi(fakes.phone(rng), "PHONE")
    elif column in {"VILLE", "Ville"}:
        doc.phi(fakes.city(rng), "CITY")
    elif column in {"LIT", "Chambre"}:
        doc.add(str(rng.randint(1, 40)))
    elif column in {"MOTIF", "Diagnostic"}:
        doc.add(
            rng.choice(
                [
                    "pneumopathie",
                    "chute",
                    "AVC",
                    "IC décompensée",
                    "sepsis urinaire",
                    "bilan",
                    rng.choice(look.ICD10),
                ]
            )
        )
    else:
        doc.add(rng.choice(["cardiologie", "gériatrie", "HDJ", "USC", "médecine B"]))


_IPP_COLUMNS = ["IPP", "N° patient", "NIP", "ID", "Identifiant", "Nº patient", "N° IPP"]
_NDA_COLUMNS = ["NDA", "Venue", "N° séjour", "Séjour", "N° de venue", "IEP", "N° dossier"]
_ID_COLUMNS = [
    [*_IPP_COLUMNS, *_NDA_COLUMNS],
    ["NOM", "Nom", "nom"],
    ["PRENOM", "Prénom", "prénom"],
    ["DDN", "Date de naissance", "Né(e) le"],
]
_OTHER_COLUMNS = [
    ["ENTREE", "Date entrée"],
    ["TEL", "Téléphone"],
    ["VILLE", "Ville"],
    ["LIT", "Chambre"],
    ["MOTIF", "Diagnostic"],
    ["SERVICE", "UF"],
]


def pasted_table(rng: random.Random) -> Doc:
    """Rows copied from a spreadsheet: the header, not a keyword, says what each column is."""
    doc = Doc("pasted_table")
    doc.add(
        rng.choice(
            [
                "Voici la liste des patients, fais un tableau de synthèse :\n",
                "Peux-tu trier ces entrées par date ?\n",
                "Résume la situation de chaque patient :\n",
                "",
            ]
        )
    )
    columns = [rng.choice(group) for group in rng.sample(_ID_COLUMNS, rng.randint(2, 4))]
    columns += [rng.choice(group) for group in rng.sample(_OTHER_COLUMNS, rng.randint(1, 3))]
    rng.shuffle(columns)
    separator = rng.choice([";", "\t", " | ", ","])
    # A table pasted from a wiki or a chat answer: pipes around each row, a rule under the header.
    framed = separator == " | " and rng.random() < 0.5
    doc.add(("| " if framed else "") + separator.join(columns) + (" |\n" if framed else "\n"))
    if framed:
        doc.add("|" + "|".join("---" for _ in columns) + "|\n")
    for _ in range(rng.randint(2, 6)):
        last = fakes.surname(rng)
        row = {
            "ipp": fakes.ipp(rng) if rng.random() < 0.5 else admin.patient_number(rng),
            "first": fakes.first_name(rng),
            "last": last.upper() if rng.random() < 0.6 else last,
        }
        if framed:
            doc.add("| ")
        for index, column in enumerate(columns):
            if index:
                doc.add(separator)
            _table_cell(doc, rng, column, row)
        doc.add(" |\n" if framed else "\n")
    return doc


def lowercase_prompt(rng: random.Random) -> Doc:
    """A prompt typed in a hurry: no capitals, names after lower-case titles or bare."""
    doc = Doc("lowercase_prompt")
    doc.add(
        rng.choice(
            [
                "résume le dossier de ",
                "la conclusion de ",
                "fais un courrier pour ",
                "quel traitement pour ",
                "reformule l'observation de ",
            ]
        )
    )
    first = rng.choice(fakes.LEXICON_FIRST).lower()
    last = rng.choice(fakes.LEXICON_SURNAMES).lower()
    style = rng.randrange(4)
    if style == 0:
        doc.add(rng.choice(["m. ", "mme ", "mr ", "mlle "])).phi(last, "PERSON")
    elif style == 1:
        doc.add(rng.choice(["m. ", "mme "])).phi(f"{last} {first}", "PERSON")
    elif style == 2:
        doc.phi(f"{last} {first}", "PERSON")
    else:
        doc.phi(f"{first} {last}", "PERSON")
    if rng.random() < 0.5:
        doc.add(rng.choice([" né le ", " née le ", " ddn "]))
        doc.phi(_numeric_date(rng, birth=True), "BIRTHDATE")
    if rng.random() < 0.4:
        doc.add(" vu par ").add(rng.choice(["dr ", "pr "]))
        doc.phi(rng.choice(fakes.LEXICON_SURNAMES).lower(), "PERSON")
    doc.add(" : " + look.clinical_paragraph(rng, rng.randint(1, 3)).lower())
    return doc


def _initial_name(rng: random.Random) -> str:
    last = fakes.surname(rng)
    return f"{fakes.first_name(rng)[0]}. {last.upper() if rng.random() < 0.3 else last}"


def initials_letter(rng: random.Random) -> Doc:
    """A letter whose names are an initial and a surname ("Dr A. Barbier", "N. Maillet")."""
    doc = Doc("initials_letter")
    if rng.random() < 0.5:
        doc.add(look.letterhead(rng))
    doc.add(rng.choice(["Objet : ", "Concerne : ", "Patient : ", "Votre patient(e) "]))
    if rng.random() < 0.5:
        doc.add(rng.choice(fakes.TITLES_F + fakes.TITLES_M) + " ")
    doc.phi(_initial_name(rng), "PERSON").add("\n\nCher confrère,\n\n")
    doc.add(look.clinical_paragraph(rng, rng.randint(2, 5)))
    doc.add(rng.choice(["\nAvis demandé au ", "\nVu avec le ", "\nDiscuté avec le "]))
    doc.add(rng.choice(["Dr ", "Dr. ", "Pr "])).phi(_initial_name(rng), "PERSON")
    doc.add(".\n\nBien confraternellement,\n")
    doc.add(rng.choice(["Dr ", "Pr ", ""])).phi(_initial_name(rng), "PERSON").add("\n")
    return doc


def nursing_note(rng: random.Random) -> Doc:
    """Nurses' handover notes: relatives by first name, dates without a year, stay numbers."""
    doc = Doc("nursing_note")
    doc.add("Transmissions IDE du ").phi(_care_day(rng), "DATE").add("\n")
    if rng.random() < 0.6:
        doc.add("Patient(e) : ").person(rng).add(", ")
        doc.add(rng.choice(["Venue n° ", "venue n°", "Séjour n° ", "NDA "]))
        doc.phi(fakes.nda(rng), "NDA").add("\n")
    else:
        doc.add(rng.choice(["Ch. 12 \u2013 ", "Lit 4 \u2013 ", ""])).person(rng).add("\n")
    if rng.random() < 0.5:
        doc.add(
            rng.choice(
                [
                    "Vivant seul à domicile à ",
                    "Vit seule à domicile à ",
                    "Vit avec son épouse à ",
                    "Retour à domicile prévu à ",
                ]
            )
        )
        doc.phi(fakes.city(rng), "CITY").add(".\n")
    for _ in range(rng.randint(2, 5)):
        pick = rng.randrange(6)
        if pick == 0:
            relative = rng.choice(RELATIVES)
            lead = rng.choice(
                [f"Appel de {relative} ", f"Visite de {relative} ", f"{relative.capitalize()} "]
            )
            doc.add(lead).phi(fakes.first_name(rng), "PERSON")
            doc.add(
                rng.choice(
                    [
                        " à 14h, informé(e) de l'évolution.",
                        ", rassuré(e).",
                        " passera demain.",
                        " souhaite rencontrer le médecin.",
                    ]
                )
            )
        elif pick == 1:
            doc.add(rng.choice(["RDV de contrôle le ", "Prochain pansement le ", "Sortie le "]))
            doc.phi(_care_day(rng), "DATE").add(".")
        elif pick == 2:
            # The demo hospital's patient numbers: ten digits opening with 80, no keyword.
            doc.add(rng.choice(["Réf. ", "ref. ", "Étiquettes au nom du ", "Dossier papier "]))
            doc.phi(f"80{rng.randint(0, 10**8 - 1):08d}", "IPP").add(" à reporter sur les bons.")
        elif pick == 3:
            doc.add(institutional_sentence(rng))
        else:
            doc.add(look.clinical_paragraph(rng, rng.randint(1, 2)))
        doc.add("\n")
    return doc


def protocol(rng: random.Random) -> Doc:
    """A service protocol or pharmacy note: headings, roles, contact data, lots, versions."""
    doc = Doc(rng.choice(["clean_protocol_doc", "clean_pharmacy"]))
    doc.add(
        rng.choice(
            [
                "PROTOCOLE DE SOINS\n",
                "FICHE TECHNIQUE PHARMACIE\n",
                "PROCÉDURE \u2013 " + rng.choice(look.GUIDELINES).upper() + "\n",
                "NOTE D'INFORMATION\n",
            ]
        )
    )
    makers: list[Callable[[], str]] = [
        lambda: institutional_sentence(rng),
        lambda: look.fill(rng.choice(look.FR_SENTENCES), rng),
        lambda: f"{rng.choice(ROLES)} est responsable de la diffusion.",
    ]
    for heading in rng.sample(HEADINGS, rng.randint(3, 6)):
        doc.add(f"\n{heading}\n")
        for _ in range(rng.randint(1, 3)):
            doc.add(rng.choice(makers)() + "\n")
    return doc


def clean_table(rng: random.Random) -> Doc:
    """A pasted table with no identifier: stock, doses or schedules."""
    doc = Doc("clean_table")
    separator = rng.choice([";", "\t", " | "])
    doc.add(rng.choice(["Vérifie ce tableau de stock :\n", "Planning des soins :\n", ""]))
    doc.add(separator.join(["PRODUIT", "LOT", "PEREMPTION", "QUANTITE"]) + "\n")
    for _ in range(rng.randint(2, 6)):
        cells = [
            rng.choice(look.DRUGS),
            look.lot(rng),
            f"{rng.randint(1, 12):02d}/{rng.randint(2025, 2029)}",
            str(rng.randint(1, 200)),
        ]
        doc.add(separator.join(cells) + "\n")
    return doc


BEARING: list[tuple[Callable[[random.Random], Doc], int]] = [
    (pasted_table, 2),
    (lowercase_prompt, 3),
    (initials_letter, 2),
    (nursing_note, 3),
]
CLEAN: list[Callable[[random.Random], Doc]] = [protocol, protocol, clean_table]
