"""Identifier-bearing documents of other shapes: liaison letters, whole records, English prompts."""

# French typography (curly apostrophes, en dashes, NBSP) is part of what the corpus tests.
# ruff: noqa: RUF001

from __future__ import annotations

import datetime
from random import Random

from tests.phi.heldout import filler, letters, names, short_texts
from tests.phi.heldout.document import Document, Piece
from tests.phi.heldout.identifiers import care_date, english_date, french_date
from tests.phi.heldout.people import Person, clinician_name, initial_name, make_person


def _apostrophe(rng: Random, text: str) -> str:
    """People type either apostrophe; the detector must read both."""
    return text.replace("'", "\u2019") if rng.random() < 0.5 else text


def liaison_letter(rng: Random) -> Document:
    doc = Document("liaison_letter")
    patient, gp, resident = make_person(rng), make_person(rng), make_person(rng)
    relation, male = rng.choice(names.RELATIVES)
    relative = make_person(rng, male=male)
    _, _, address, _ = filler.hospital(rng)
    entry = care_date(rng)
    leaving = entry + datetime.timedelta(days=rng.randint(2, 15))
    # The place of writing is the hospital's town: not a person's city.
    doc.line(address.split()[-1], ", le ", ("DATE", french_date(rng, leaving)))
    doc.line(rng.choice(("LETTRE DE LIAISON", "Lettre de liaison à la sortie")))
    doc.line(
        "Destinataire : Dr ", ("PERSON", initial_name(gp)), rng.choice((", médecin traitant", ""))
    )
    opening, closing = rng.choice(((" – IPP ", ""), (" (dossier ", ")"), (" – ", "")))
    doc.line(
        "Patient : ", patient.civility, " ", ("PERSON", f"{patient.first} {patient.last.upper()}"),
        opening, ("IPP", patient.ipp), closing,
    )  # fmt: skip
    doc.line(
        "Entré" if patient.male else "Entrée", " le ",
        ("DATE", french_date(rng, entry, with_year=False)),
        ", sorti" + ("" if patient.male else "e"),
        " le ", ("DATE", french_date(rng, leaving, with_year=False)), ".",
    )  # fmt: skip
    doc.line(
        "Personne de confiance : ", relation, ", ",
        "M. " if male else "Mme ", ("PERSON", relative.last), " (", ("PHONE", relative.phone), ").",
    )  # fmt: skip
    doc.line(
        "Retour à domicile à ", ("CITY", _apostrophe(rng, patient.city)),
        rng.choice((" avec passage IDE libérale matin et soir.", ", kiné à domicile.", ".")),
    )  # fmt: skip
    doc.line(f"Traitement : {'; '.join(rng.sample(filler.DRUGS, 2))}.")
    doc.line(filler.clinical_sentence(rng))
    doc.line(
        "À revoir le ", ("DATE", french_date(rng, leaving + datetime.timedelta(days=30))),
        " par le Pr ", ("PERSON", clinician_name(rng, make_person(rng))), ".",
    )  # fmt: skip
    doc.line()
    doc.line(
        ("PERSON", initial_name(resident)), rng.choice((", interne", ", interne de médecine", ""))
    )
    return doc


def long_record(rng: Random) -> Document:
    """A whole stay pasted at once: admission form, notes, consultation, discharge letter."""
    doc = Document("long_record")
    patient = make_person(rng)
    doc.line("DOSSIER PATIENT – EXTRACTION COMPLÈTE")
    doc.extend(letters.admission_form(rng, patient)).line()
    doc.line("OBSERVATION MÉDICALE D’ENTRÉE")
    for _ in range(rng.randint(4, 9)):
        doc.line(
            "Le ", ("DATE", french_date(rng, care_date(rng), with_year=rng.random() < 0.5)),
            " : ", filler.clinical_paragraph(rng, rng.randint(3, 6)),
        )  # fmt: skip
    doc.line()
    doc.extend(short_texts.nursing_note(rng, patient)).line()
    doc.extend(letters.consultation_note(rng, patient)).line()
    doc.extend(short_texts.nursing_note(rng, patient)).line()
    doc.extend(letters.discharge_letter(rng, patient))
    return doc


def english_prompt(rng: Random) -> Document:
    doc = Document("english_prompt")
    patient, doctor = make_person(rng), make_person(rng)
    first, last = rng.choice(names.ENGLISH_FIRST), rng.choice(names.ENGLISH_SURNAMES)
    if rng.random() < 0.5:
        first, last = patient.first, patient.last
    title = rng.choice(("mr ", "mrs ", "ms ", "")) if rng.random() < 0.7 else ""
    lowered = rng.random() < 0.6
    name = f"{first} {last}".lower() if lowered else f"{first} {last}"
    templates: tuple[tuple[Piece, ...], ...] = (
        ("summarize the chart of ", title, ("PERSON", name), " born ",
         ("BIRTHDATE", english_date(rng, patient.birth))),
        ("write a referral letter to dr ", ("PERSON", doctor.last.lower()), " for ", title,
         ("PERSON", name), ", seen on ", ("DATE", english_date(rng, care_date(rng)))),
        ("what are the allergies of patient ", ("IPP", patient.ipp), "?"),
        ("draft a reply to ", ("EMAIL", patient.email), " about the appointment on ",
         ("DATE", english_date(rng, care_date(rng)))),
        ("translate into French the discharge summary of ", title, ("PERSON", name),
         " who lives in ", ("CITY", patient.city)),
    )  # fmt: skip
    doc.add(*rng.choice(templates))
    return doc


def email_prompt(rng: Random) -> Document:
    doc = Document("prompt")
    patient = make_person(rng)
    templates: tuple[tuple[Piece, ...], ...] = (
        ("réponds au mail de ", ("EMAIL", patient.email), " : elle demande ses résultats du ",
         ("DATE", french_date(rng, care_date(rng), with_year=False))),
        ("rédige une réponse polie à ", ("PERSON", f"{patient.first} {patient.last}"), " (",
         ("EMAIL", patient.email), ") qui veut avancer son rendez-vous"),
        ("résume ", ("IPP", patient.ipp)),
        ("le fils de ", ("PERSON", patient.last.lower()), " a appelé du ", ("PHONE", patient.phone),
         ", fais une note pour l’équipe"),
        ("écris à la famille de ", ("PERSON", f"{patient.first} {patient.last}"), ", ",
         ("ADDRESS", patient.street), ", ", ("ZIP", patient.zip_code), " ", ("CITY", patient.city)),
    )  # fmt: skip
    doc.add(*rng.choice(templates))
    return doc


def signed_note(rng: Random) -> Document:
    """A short clinical note with only a person's name as identifier (signature, relative)."""
    doc = Document("signed_note")
    author: Person = make_person(rng)
    relation, male = rng.choice(names.RELATIVES)
    relative = make_person(rng, male=male)
    doc.line(filler.clinical_paragraph(rng, rng.randint(1, 3)))
    doc.line(
        rng.choice(("Information donnée à ", "Entretien avec ", "Appel de ")), relation, " ",
        *((("PERSON", relative.first),) if rng.random() < 0.5
          else ("M. " if male else "Mme ", ("PERSON", relative.last))),
        rng.choice((".", " ce jour.", ", d’accord avec le projet.")),
    )  # fmt: skip
    doc.line(rng.choice(("", "Dr ", "Pr ")), ("PERSON", clinician_name(rng, author)))
    return doc


def handover(rng: Random) -> Document:
    """A ward handover typed in a hurry: several patients, rooms, relatives' numbers."""
    doc = Document("handover")
    doc.line(rng.choice(("transmissions de nuit", "STAFF DU MATIN", "Relève équipe de jour")))
    for room in sorted(rng.sample(range(1, 40), rng.randint(2, 5))):
        patient = make_person(rng)
        age = rng.randint(25, 98)
        lowered = rng.random() < 0.4
        name = patient.last.lower() if lowered else patient.last.upper()
        title = patient.civility.lower() if lowered else patient.civility
        if rng.random() < 0.5:
            name += " " + (patient.first.lower() if lowered else patient.first)
        doc.add(f"ch {room} – {title} ", ("PERSON", name))
        doc.add(f", {age} ans, {rng.choice(names.REASONS)} ; ", filler.clinical_sentence(rng))
        if rng.random() < 0.35:
            relation, male = rng.choice(names.RELATIVES)
            relative = make_person(rng, male=male)
            doc.add(
                f" {relation} ",
                ("PERSON", relative.first),
                " à rappeler au ",
                ("PHONE", relative.phone),
            )
        doc.line()
    return doc
