"""Identifier-bearing documents of the long kinds: letters, notes, reports, forms, e-mails."""

# French typography (curly apostrophes, en dashes, NBSP) is part of what the corpus tests.
# ruff: noqa: RUF001

from __future__ import annotations

import datetime
from random import Random

from tests.phi.heldout import filler, names
from tests.phi.heldout.document import Document
from tests.phi.heldout.identifiers import care_date, english_date, french_date, make_rpps
from tests.phi.heldout.people import (
    Person,
    clinician_name,
    full_name,
    initial_name,
    make_person,
)

ENGLISH_REASONS = ("pneumonia", "heart failure", "a fall", "urosepsis", "delirium")
ENGLISH_DRUGS = ("apixaban 5 mg bd", "furosemide 40 mg od", "amoxicillin 1 g tds")


def _later(day: datetime.date, rng: Random) -> datetime.date:
    return day + datetime.timedelta(days=rng.randint(1, 21))


def _age(person: Person, on: datetime.date) -> int:
    return (
        on.year - person.birth.year - ((on.month, on.day) < (person.birth.month, person.birth.day))
    )


def _e(person: Person) -> str:
    return "" if person.male else "e"


def discharge_letter(rng: Random, patient: Person | None = None) -> Document:
    doc = Document("discharge_letter")
    patient = patient or make_person(rng)
    gp, author = make_person(rng), make_person(rng)
    admission = care_date(rng)
    discharge = _later(admission, rng)
    doc.add(filler.hospital_header(rng), "\n")
    doc.line(rng.choice(("Le ", "Fait le ", "Courrier du ")), ("DATE", french_date(rng, discharge)))
    doc.line(
        rng.choice(("Docteur ", "À l’attention du Dr ", "Dr ")), ("PERSON", clinician_name(rng, gp))
    )
    if rng.random() < 0.5:
        doc.line(
            "IPP : ",
            ("IPP", patient.ipp),
            rng.choice((" – NDA ", " / séjour n° ")),
            ("NDA", patient.nda),
        )
    doc.line(
        "Objet : hospitalisation de ",
        patient.civility,
        " ",
        ("PERSON", full_name(rng, patient)),
        f", {patient.born} le ",
        ("BIRTHDATE", french_date(rng, patient.birth)),
    )
    doc.line()
    doc.line(rng.choice(("Cher confrère,", "Chère consœur, cher confrère,", "Cher ami,")))
    doc.line()
    doc.add(
        f"J’ai pris en charge votre patient{_e(patient)}, {patient.civility} ",
        ("PERSON", patient.last),
        f", âgé{_e(patient)} de {_age(patient, admission)} ans, ",
        f"hospitalisé{_e(patient)} du ",
        ("DATE", french_date(rng, admission)),
        " au ",
        ("DATE", french_date(rng, discharge)),
        f" pour {rng.choice(names.REASONS)}. ",
    )
    doc.line(filler.clinical_paragraph(rng, rng.randint(2, 5)))
    if rng.random() < 0.5:
        doc.line(
            f"Mode de vie : vit seul{_e(patient)} à domicile à ",
            ("CITY", patient.city),
            rng.choice(
                (", passage d’une aide-ménagère deux fois par semaine.", ", autonome.", ".")
            ),
        )
    doc.line(f"Traitement de sortie : {'; '.join(rng.sample(filler.DRUGS, 3))}.")
    doc.line(
        f"{'Il' if patient.male else 'Elle'} sera revu{_e(patient)} en consultation le ",
        ("DATE", french_date(rng, _later(discharge, rng), with_year=rng.random() < 0.4)),
        " par le Dr ",
        ("PERSON", clinician_name(rng, author)),
        ".",
    )
    doc.line()
    doc.line(
        rng.choice(
            (
                "Bien confraternellement,",
                "Je vous prie de croire, cher confrère, à mes sentiments les meilleurs.",
                "Cordialement,",
            )
        )
    )
    doc.line(
        "Dr ",
        ("PERSON", initial_name(author))
        if rng.random() < 0.6
        else ("PERSON", f"{author.first} {author.last.upper()}"),
    )
    if rng.random() < 0.4:
        doc.line(rng.choice(("RPPS ", "N° RPPS : ")), ("RPPS", make_rpps(rng)))
    if rng.random() < 0.5:
        doc.line(
            "Copie : Dr ",
            ("PERSON", clinician_name(rng, gp)),
            ", médecin traitant ; patient" + _e(patient),
        )
    return doc


def consultation_note(rng: Random, patient: Person | None = None) -> Document:
    doc = Document("consultation_note")
    patient = patient or make_person(rng)
    gp, author = make_person(rng), make_person(rng)
    seen = care_date(rng)
    doc.line(f"CONSULTATION {filler.of(rng.choice(names.SERVICES)).upper()}")
    doc.line(
        rng.choice(("Date : ", "Consultation du ", "Vu le ")), ("DATE", french_date(rng, seen))
    )
    doc.add(
        rng.choice(("Patient : ", "Patient(e) : ", "")),
        patient.civility,
        " ",
        ("PERSON", full_name(rng, patient)),
    )
    doc.add(f", {patient.born} le ", ("BIRTHDATE", french_date(rng, patient.birth)))
    if rng.random() < 0.5:
        doc.add(" à ", ("CITY", patient.birth_city))
    doc.line()
    doc.line("Médecin traitant : Dr ", ("PERSON", clinician_name(rng, gp)))
    doc.line()
    doc.line(
        f"Motif : suivi de {rng.choice(filler.EPONYMS)}."
        if rng.random() < 0.5
        else f"Motif : {rng.choice(names.REASONS)}."
    )
    doc.line(
        f"{patient.civility} ",
        ("PERSON", patient.last),
        rng.choice((" a été revu", " est revu", " avait été vu")),
        _e(patient),
        " le ",
        ("DATE", french_date(rng, _later(seen, rng), with_year=False)),
        rng.choice((" avec les résultats du bilan.", ".", " en hôpital de jour.")),
    )
    doc.line(filler.clinical_paragraph(rng, rng.randint(2, 4)))
    doc.line("Conclusion : ", filler.clinical_sentence(rng))
    doc.line("Prochain rendez-vous le ", ("DATE", french_date(rng, _later(seen, rng))), ".")
    doc.line(rng.choice(("Dr ", "Pr ", "")), ("PERSON", clinician_name(rng, author)))
    return doc


def operative_report(rng: Random) -> Document:
    doc = Document("operative_report")
    patient = make_person(rng)
    surgeon, assistant, anaesthetist = make_person(rng), make_person(rng), make_person(rng)
    day = care_date(rng)
    doc.line("COMPTE RENDU OPÉRATOIRE")
    doc.line("Patient : ", ("PERSON", full_name(rng, patient)), " (IPP ", ("IPP", patient.ipp), ")")
    doc.line(f"{patient.born.capitalize()} le ", ("BIRTHDATE", french_date(rng, patient.birth)))
    doc.line("Date de l’intervention : ", ("DATE", french_date(rng, day)))
    doc.line("Opérateur : ", rng.choice(("Pr ", "Dr ")), ("PERSON", clinician_name(rng, surgeon)))
    doc.line("Aide opératoire : Dr ", ("PERSON", clinician_name(rng, assistant)))
    doc.line("Anesthésiste : Dr ", ("PERSON", initial_name(anaesthetist)))
    doc.line(f"Acte : {rng.choice(filler.CCAM)} – diagnostic {rng.choice(filler.ICD10)}")
    doc.line(f"Indication : {rng.choice(names.REASONS)}.")
    doc.line(
        "Installation en décubitus dorsal, antibioprophylaxie par céfazoline 2 g. ",
        f"Mise en place de l’implant, {filler.lot_number(rng)}. ",
        filler.clinical_sentence(rng),
    )
    doc.line("Suites : lever J1, ablation des agrafes à J", str(rng.randint(10, 15)), ".")
    return doc


def prescription(rng: Random) -> Document:
    doc = Document("prescription")
    patient, prescriber = make_person(rng), make_person(rng)
    doc.add(filler.hospital_header(rng))
    doc.line(
        "Dr ",
        ("PERSON", f"{prescriber.first} {prescriber.last}"),
        " – RPPS ",
        ("RPPS", make_rpps(rng)),
    )
    doc.line("ORDONNANCE")
    doc.line("Le ", ("DATE", french_date(rng, care_date(rng))))
    doc.line(patient.civility, " ", ("PERSON", full_name(rng, patient)))
    doc.line(
        f"{patient.born.capitalize()} le ",
        ("BIRTHDATE", french_date(rng, patient.birth)),
        f" – poids {rng.randint(45, 110)} kg",
    )
    for drug in rng.sample(filler.DRUGS, rng.randint(2, 5)):
        doc.line("- ", drug)
    doc.line(rng.choice(("Renouvelable 3 fois.", "QSP 1 mois.", "Ne pas substituer.")))
    return doc


def admission_form(rng: Random, patient: Person | None = None) -> Document:
    doc = Document("admission_form")
    patient = patient or make_person(rng)
    contact = make_person(rng)
    doc.line("FICHE D’ADMISSION")
    doc.line("Nom : ", ("PERSON", patient.last.upper()))
    doc.line("Prénom : ", ("PERSON", patient.first))
    doc.line("Date de naissance : ", ("BIRTHDATE", french_date(rng, patient.birth)))
    if rng.random() < 0.6:
        doc.line("Lieu de naissance : ", ("CITY", patient.birth_city))
    doc.line("Adresse : ", ("ADDRESS", patient.street))
    doc.line("Code postal : ", ("ZIP", patient.zip_code), "   Ville : ", ("CITY", patient.city))
    doc.line("Téléphone : ", ("PHONE", patient.phone))
    doc.line("N° de sécurité sociale : ", ("NIR", patient.nir))
    relation = rng.choice([r for r, male in names.RELATIVES if male == contact.male]).split()[1]
    doc.line(
        "Personne à prévenir : ",
        ("PERSON", full_name(rng, contact)),
        f" ({relation}) – ",
        ("PHONE", contact.phone),
    )
    doc.line("IPP : ", ("IPP", patient.ipp), "   N° de venue : ", ("NDA", patient.nda))
    doc.line("Date d’entrée : ", ("DATE", french_date(rng, care_date(rng))))
    if rng.random() < 0.3:
        doc.line("RIB (frais de chambre particulière) : ", ("IBAN", patient.iban))
    doc.line(f"Service : {rng.choice(names.SERVICES)} – chambre {rng.randint(1, 40)}")
    return doc


def email(rng: Random) -> Document:
    doc = Document("email")
    patient, doctor = make_person(rng), make_person(rng)
    _, domain, _, _ = filler.hospital(rng)
    mailbox = f"secretariat.{rng.choice(('cardio', 'neuro', 'pneumo', 'rhumato', 'uro'))}@{domain}"
    day = care_date(rng)
    if rng.random() < 0.5:
        doc.line("De : ", ("EMAIL", patient.email))
        doc.line(f"À : {mailbox}")
        doc.line("Objet : ", rng.choice(("mon rendez-vous", "RE: convocation", "ordonnance")))
        doc.line()
        doc.line("Bonjour Docteur ", ("PERSON", doctor.last), ",")
        doc.line(
            "Je ne pourrai pas venir à mon rendez-vous du ",
            ("DATE", french_date(rng, day, with_year=rng.random() < 0.5)),
            rng.choice((", pourriez-vous me rappeler au ", ". Mon numéro : ")),
            ("PHONE", patient.phone),
            ".",
        )
        doc.line("Cordialement,")
        doc.line(("PERSON", f"{patient.first} {patient.last}"))
    else:
        doc.line(f"De : {mailbox}")
        doc.line("À : ", ("EMAIL", patient.email))
        doc.line("Objet : convocation")
        doc.line()
        doc.line("Monsieur," if patient.male else "Madame,")
        doc.line(
            "Votre rendez-vous avec le Pr ",
            ("PERSON", doctor.last),
            " est fixé au ",
            ("DATE", french_date(rng, day)),
            f" à {rng.randint(8, 17)}h{rng.choice(('00', '15', '30'))}. ",
            f"Merci de vous présenter à l’accueil muni{_e(patient)} de votre carte Vitale.",
        )
        doc.line(f"Pour tout empêchement : {filler.institutional_contact(rng)}.")
        doc.line("Le secrétariat")
    return doc


def english_note(rng: Random) -> Document:
    doc = Document("english_note")
    patient, gp, relative = make_person(rng), make_person(rng), make_person(rng)
    if rng.random() < 0.4:
        first, last = rng.choice(names.ENGLISH_FIRST), rng.choice(names.ENGLISH_SURNAMES)
    else:
        first, last = patient.first, patient.last
    admitted = care_date(rng)
    doc.line(
        rng.choice(("Discharge summary", "DISCHARGE SUMMARY", "Transfer note", "Clinic letter"))
    )
    doc.line(
        "Patient: ",
        ("PERSON", f"{first} {last}"),
        "   DOB: ",
        ("BIRTHDATE", english_date(rng, patient.birth)),
    )
    doc.line(rng.choice(("MRN: ", "Hospital number: ", "Patient ID ")), ("IPP", patient.ipp))
    doc.line(
        "Admitted on ",
        ("DATE", english_date(rng, admitted)),
        f" with {rng.choice(ENGLISH_REASONS)}; ",
        "discharged on ",
        ("DATE", english_date(rng, _later(admitted, rng))),
        ".",
    )
    doc.line(
        f"{'He' if patient.male else 'She'} lives alone in ",
        ("CITY", patient.city),
        ". Next of kin: ",
        rng.choice(("daughter ", "niece ", "wife ", "sister "))
        if not relative.male
        else rng.choice(("son ", "nephew ", "husband ", "brother ")),
        ("PERSON", f"{relative.first} {relative.last}"),
        ", ",
        ("PHONE", relative.phone),
        ".",
    )
    doc.line(rng.choice(("Labs: ", "Results: ")), ", ".join(rng.sample(filler.LABS, 3)), ".")
    doc.line(f"Medications: {rng.choice(ENGLISH_DRUGS)}.")
    doc.line(
        "GP: Dr ",
        ("PERSON", clinician_name(rng, gp)),
        ". Seen in clinic on ",
        ("DATE", english_date(rng, admitted)),
        ".",
    )
    return doc
