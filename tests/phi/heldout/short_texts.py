"""Identifier-bearing short texts: chatbot prompts, nursing notes, pasted tables, bare ids."""

# French typography (curly apostrophes, en dashes, NBSP) is part of what the corpus tests.
# ruff: noqa: RUF001

from __future__ import annotations

from random import Random

from tests.phi.heldout import filler, names
from tests.phi.heldout.document import Document, Piece
from tests.phi.heldout.identifiers import NBSP, care_date, french_date
from tests.phi.heldout.people import Person, full_name, make_person


def _title(rng: Random, person: Person) -> str:
    """How a clinician types a civility in a hurry, or not at all."""
    options = ("m. ", "mr ", "monsieur ", "") if person.male else ("mme ", "madame ", "mme. ", "")
    return rng.choice(options)


def prompt(rng: Random) -> Document:
    doc = Document("prompt")
    patient, clinician = make_person(rng), make_person(rng)
    last, first = patient.last.lower(), patient.first.lower()
    title = _title(rng, patient)
    dob = french_date(rng, patient.birth)
    born = patient.born
    templates: tuple[tuple[Piece, ...], ...] = (
        ("résume le dossier de ", title, ("PERSON", last), f" {born} le ", ("BIRTHDATE", dob)),
        ("la conclusion de ", ("PERSON", f"{last} {first}")),
        (
            "fais un courrier au dr ",
            ("PERSON", clinician.last.lower()),
            " pour ",
            title,
            ("PERSON", f"{first} {last}"),
            ", hospitalisé du ",
            ("DATE", french_date(rng, care_date(rng))),
            " au ",
            ("DATE", french_date(rng, care_date(rng))),
        ),
        (
            "peux tu reformuler la lettre de sortie de ",
            ("PERSON", last),
            " (",
            ("IPP", patient.ipp),
            ")",
        ),
        (
            "quels sont les antécédents de ",
            ("PERSON", f"{first} {last}"),
            f" {born} le ",
            ("BIRTHDATE", dob),
            " ?",
        ),
        (
            "rédige une synthèse pour la rcp de demain : ",
            ("PERSON", f"{last} {first}"),
            f", {rng.randint(40, 90)} ans, adénocarcinome pulmonaire, "
            f"{rng.choice(filler.LABS).lower()}",
        ),
        (
            "traduis en anglais le cr du ",
            rng.choice(("dr ", "pr ")),
            ("PERSON", clinician.last.lower()),
            " concernant ",
            title,
            ("PERSON", last),
        ),
        (
            ("PERSON", f"{last} {first}"),
            " ipp ",
            ("IPP", patient.ipp),
            " : liste ses traitements et les interactions",
        ),
        (
            "le patient de la chambre ",
            str(rng.randint(1, 30)),
            ", ",
            title,
            ("PERSON", last),
            ", a chuté cette nuit, rédige la déclaration d’événement indésirable",
        ),
        (
            "corrige l’orthographe : ",
            title,
            ("PERSON", last),
            " revu",
            "" if patient.male else "e",
            " le ",
            ("DATE", french_date(rng, care_date(rng), with_year=False)),
            ", va mieux, ",
            rng.choice(filler.DRUGS).lower(),
        ),
        (
            "explique à ",
            title,
            ("PERSON", f"{first} {last}"),
            " les résultats de sa coloscopie du ",
            ("DATE", french_date(rng, care_date(rng))),
            " avec des mots simples",
        ),
        (
            "prépare la lettre pour ",
            title,
            ("PERSON", last),
            " qui habite ",
            ("ADDRESS", patient.street.lower()),
            " à ",
            ("CITY", patient.city.lower()),
        ),
        (
            "appelle la fille de ",
            title,
            ("PERSON", last),
            " au ",
            ("PHONE", patient.phone),
            " pour lui dire quoi ?",
        ),
        ("vérifie le nir de ", ("PERSON", f"{last} {first}"), " : ", ("NIR", patient.nir)),
        (
            "ok pour ",
            ("PERSON", f"{first} {last}"),
            "? ",
            f"{born} à ",
            ("CITY", patient.birth_city.lower()),
            ", tu peux compléter le formulaire mdph",
        ),
    )
    doc.add(*rng.choice(templates))
    return doc


def nursing_note(rng: Random, patient: Person | None = None) -> Document:
    doc = Document("nursing_note")
    patient = patient or make_person(rng)
    day = care_date(rng)
    doc.line(
        rng.choice(("Transmissions ciblées – ", "Transmissions du ", "Note IDE ")),
        ("DATE", french_date(rng, day, with_year=rng.random() < 0.5)),
        " – ",
        patient.civility,
        " ",
        ("PERSON", patient.last.upper()),
        f" – ch. {rng.randint(100, 450)}",
    )
    # One or two relatives per note, each keeping its relation and name throughout.
    family = [rng.choice(names.RELATIVES) for _ in range(rng.randint(1, 2))]
    relatives = [(relation, male, make_person(rng, male=male)) for relation, male in family]
    events = rng.sample(range(7), rng.randint(2, 4))
    for event in events:
        relation, male, relative = rng.choice(relatives)
        if event == 0:
            doc.line(
                "D : anxiété. A : appel de ",
                relation,
                " ",
                ("PERSON", relative.first),
                f" à {rng.randint(8, 21)}h, rassuré{'' if male else 'e'}. R : patient plus calme.",
            )
        elif event == 1:
            doc.line(
                "Visite de ",
                relation,
                " ",
                "M. " if male else "Mme ",
                ("PERSON", relative.last),
                " cet après-midi.",
            )
        elif event == 2:
            doc.line(
                "Personne de confiance : ",
                ("PERSON", f"{relative.first} {relative.last}"),
                f" ({relation.split()[1]}), tél. ",
                ("PHONE", relative.phone),
            )
        elif event == 3:
            doc.line(
                relation.capitalize(),
                " ",
                ("PERSON", relative.first),
                " souhaite être rappelé",
                "" if male else "e",
                " au ",
                ("PHONE", relative.phone),
                ".",
            )
        elif event == 4:
            doc.line(
                filler.clinical_sentence(rng),
                " ",
                filler.capitalised(filler.institutional_contact(rng)),
                ".",
            )
        elif event == 5:
            doc.line(
                "Retour à domicile prévu le ",
                ("DATE", french_date(rng, care_date(rng), with_year=False)),
                ", ",
                relation,
                " ",
                ("PERSON", full_name(rng, relative)),
                " viendra le chercher.",
            )
        else:
            doc.line(f"Constantes : {rng.choice(filler.VITALS)}. Pansement refait.")
    return doc


def _table_rows(rng: Random, doc: Document, columns: tuple[str, ...], separator: str) -> None:
    for _ in range(rng.randint(2, 6)):
        person = make_person(rng)
        cells: list[Piece] = []
        for column in columns:
            if column == "ipp":
                cells.append(("IPP", person.ipp))
            elif column == "nda":
                cells.append(("NDA", person.nda))
            elif column == "last":
                cells.append(("PERSON", person.last.upper() if rng.random() < 0.7 else person.last))
            elif column == "first":
                cells.append(("PERSON", person.first))
            elif column == "name":
                cells.append(("PERSON", full_name(rng, person)))
            elif column == "dob":
                cells.append(("BIRTHDATE", french_date(rng, person.birth)))
            elif column == "date":
                cells.append(("DATE", french_date(rng, care_date(rng))))
            elif column == "city":
                cells.append(("CITY", person.city))
            elif column == "zip":
                cells.append(("ZIP", person.zip_code))
            elif column == "phone":
                cells.append(("PHONE", person.phone))
            elif column == "ward":
                cells.append(rng.choice(names.SERVICES))
            elif column == "bed":
                cells.append(f"{rng.randint(1, 40)}{rng.choice(('A', 'B', ''))}")
            elif column == "icd":
                cells.append(rng.choice(filler.ICD10))
            else:
                cells.append(rng.choice(names.REASONS))
        for index, cell in enumerate(cells):
            doc.add(separator if index else "", cell)
        doc.add("\n")


TABLES = (
    ("IPP;NOM;PRENOM;DDN;SERVICE", ("ipp", "last", "first", "dob", "ward"), ";"),
    (
        "N° dossier\tNom\tPrénom\tDate de naissance\tLit",
        ("ipp", "last", "first", "dob", "bed"),
        "\t",
    ),
    ("MRN,Last name,First name,DOB,Ward", ("ipp", "last", "first", "dob", "ward"), ","),
    ("ipp,nom,prenom,ddn,ville,cp", ("ipp", "last", "first", "dob", "city", "zip"), ","),
    ("Nom Prénom;Né(e) le;Téléphone;Motif", ("name", "dob", "phone", "reason"), ";"),
    ("NDA | Patient | Entrée | Diag", ("nda", "name", "date", "icd"), " | "),
    ("Patient\tDOB\tAdmission\tICD-10", ("name", "dob", "date", "icd"), "\t"),
    ("lit;nom;prénom;date entrée;diagnostic", ("bed", "last", "first", "date", "reason"), ";"),
)


def table(rng: Random) -> Document:
    doc = Document("table")
    header, columns, separator = rng.choice(TABLES)
    if rng.random() < 0.5:
        doc.line(
            rng.choice(
                (
                    "voici la liste des entrées, fais-moi un tableau de synthèse :",
                    "Liste de staff",
                    "Patients sortants",
                )
            )
        )
    doc.line(header)
    _table_rows(rng, doc, columns, separator)
    return doc


def bare_ids(rng: Random) -> Document:
    doc = Document("bare_ids")
    patient = make_person(rng)
    templates: tuple[tuple[Piece, ...], ...] = (
        ("ref. ", ("IPP", patient.ipp), " – CR à valider avant vendredi"),
        (("IPP", patient.ipp), " : il manque l’ordonnance de sortie"),
        ("Venue n° ", ("NDA", patient.nda), " : facturation bloquée, GHM 05M09"),
        (
            "merci de vérifier le dossier ",
            ("IPP", patient.ipp),
            ", ",
            filler.clinical_sentence(rng),
        ),
        ("pat. ", ("IPP", patient.ipp), " / venue ", ("NDA", patient.nda)),
        ("séjour ", ("NDA", patient.nda), f"{NBSP}: codage {rng.choice(filler.ICD10)} à revoir"),
        ("résume le cr du séjour ", ("NDA", patient.nda), " en 5 lignes"),
        ("Dossier ", ("IPP", patient.ipp), f" transféré en {rng.choice(names.SERVICES)}."),
    )
    doc.add(*rng.choice(templates))
    return doc


def social_note(rng: Random) -> Document:
    doc = Document("social_note")
    patient = make_person(rng)
    e = "" if patient.male else "e"
    doc.line(rng.choice(("ÉVALUATION SOCIALE", "Note de l’assistante sociale", "Bilan social")))
    doc.line(
        patient.civility,
        " ",
        ("PERSON", full_name(rng, patient)),
        f", {patient.born} le ",
        ("BIRTHDATE", french_date(rng, patient.birth)),
        " à ",
        ("CITY", patient.birth_city),
        ".",
    )
    doc.line(
        rng.choice(
            (
                f"Vivant seul{e} à domicile à ",
                "Réside à ",
                "Veuf, habite " if patient.male else "Veuve, habite ",
            )
        ),
        ("CITY", patient.city),
        rng.choice((", maison de plain-pied.", ", 3e étage sans ascenseur.", ".")),
    )
    if rng.random() < 0.7:
        doc.line(
            "Adresse : ",
            ("ADDRESS", patient.street),
            ", ",
            ("ZIP", patient.zip_code),
            " ",
            ("CITY", patient.city),
        )
    if rng.random() < 0.6:
        doc.line("N° SS : ", ("NIR", patient.nir))
    if rng.random() < 0.4:
        doc.line("RIB transmis pour l’aide exceptionnelle : ", ("IBAN", patient.iban))
    doc.line(
        f"Aides en place : APA GIR {rng.randint(2, 5)}, portage des repas. "
        f"{filler.capitalised(filler.institutional_contact(rng))}."
    )
    return doc
