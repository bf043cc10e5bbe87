"""Identifier-free documents: protocols, pharmacy, lab results, guidelines, memos, questions.

They name no person and no patient: the hospital's own contacts, document administrative
dates, lots, codes, doses, eponyms, role titles and uppercase headings must all stay unflagged.
"""

# French typography (curly apostrophes, en dashes, NBSP) is part of what the corpus tests.
# ruff: noqa: RUF001

from __future__ import annotations

from random import Random

from tests.phi.heldout import filler, names
from tests.phi.heldout.document import Document


def _admin_date(rng: Random) -> str:
    day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2015, 2025)
    return rng.choice(
        (f"{day:02d}/{month:02d}/{year}", f"{month:02d}/{year}", f"{day:02d}.{month:02d}.{year}")
    )


def protocol(rng: Random) -> Document:
    doc = Document("protocol")
    name, _, address, _ = filler.hospital(rng)
    topic = rng.choice(
        (
            "ANTICOAGULATION PAR HÉPARINE",
            "PRISE EN CHARGE DE LA DOULEUR",
            "PRÉVENTION DES CHUTES",
            "HYPOGLYCÉMIE DE L’ADULTE",
            "SEPSIS GRAVE",
            "TRANSFUSION SANGUINE",
            "ISOLEMENT CONTACT",
        )
    )
    doc.line(f"PROTOCOLE – {topic}")
    doc.line(f"{name} – {address}")
    doc.line(
        f"Version {rng.randint(1, 9)} du {_admin_date(rng)} – validée par la COMEDIMS le ",
        _admin_date(rng),
        f" – prochaine révision {rng.randint(2026, 2029)}",
    )
    doc.line(
        "Rédaction : pharmacien responsable ; vérification : Mme la Cadre supérieure de santé ;"
    )
    doc.line("approbation : M. le Président de la CME.")
    doc.line()
    doc.line("1. OBJET")
    doc.line(f"Harmoniser les pratiques selon les {rng.choice(filler.GUIDELINES)}.")
    doc.line("2. DÉROULEMENT")
    doc.line(filler.clinical_paragraph(rng, rng.randint(2, 4)))
    doc.line(
        f"En cas de doute : {filler.institutional_contact(rng)} ; "
        f"{filler.institutional_contact(rng)}."
    )
    if rng.random() < 0.5:
        doc.line(f"Critères d’alerte : {rng.choice(filler.EPONYMS)}, {rng.choice(filler.LABS)}.")
    doc.line("3. DOCUMENTS ASSOCIÉS")
    doc.line(
        f"Fiche réflexe n° {rng.randint(10, 99)}-{rng.randint(100, 999)} ({_admin_date(rng)})."
    )
    return doc


def pharmacy(rng: Random) -> Document:
    doc = Document("pharmacy")
    name, domain, address, switchboard = filler.hospital(rng)
    doc.line(rng.choice(("PHARMACIE À USAGE INTÉRIEUR", "Pharmacie centrale", "RAPPEL DE LOT")))
    doc.line(f"{name} – {address} – Tél. {switchboard}")
    for _ in range(rng.randint(2, 4)):
        drug = rng.choice(filler.DRUGS).split(", ")[0]
        doc.line(
            f"- {drug} : CIP13 {filler.cip13(rng)}, UCD {filler.ucd13(rng)}, "
            f"{filler.lot_number(rng)}"
        )
    doc.line(
        rng.choice(("Les échantillons sont à renvoyer à : ", "Adresse de livraison : ")),
        f"Magasin pharmacie, {address}.",
    )
    doc.line(f"{filler.capitalised(filler.institutional_contact(rng))}. Mail : pharmacie@{domain}")
    doc.line(
        f"Note d’information du {_admin_date(rng)}, "
        f"réf. ANSM {rng.randint(2019, 2025)}-{rng.randint(100, 999)}."
    )
    return doc


def lab_result(rng: Random) -> Document:
    doc = Document("lab_result")
    if rng.random() < 0.5:
        doc.line(
            rng.choice(("interprète ce bilan : ", "qu’en penses-tu ? ", "Résultats : ")),
            ", ".join(rng.sample(filler.LABS, rng.randint(3, 6))),
        )
    else:
        doc.line("BIOCHIMIE SANGUINE")
        for lab in rng.sample(filler.LABS, rng.randint(4, 8)):
            doc.line(lab.replace(" ", "\t", 1))
        doc.line(f"Prélèvement à acheminer au laboratoire – {filler.institutional_contact(rng)}")
    return doc


def guideline_summary(rng: Random) -> Document:
    doc = Document("guideline_summary")
    doc.line(f"Synthèse des {rng.choice(filler.GUIDELINES)}")
    for _ in range(rng.randint(2, 4)):
        doc.line("• ", filler.clinical_sentence(rng))
    doc.line(f"Références : {rng.choice(filler.GUIDELINES)} ; {rng.choice(filler.GUIDELINES)}.")
    doc.line(
        f"Score utile : {rng.choice(filler.EPONYMS)} ; "
        f"diagnostic différentiel : {rng.choice(filler.EPONYMS)}."
    )
    return doc


def memo(rng: Random) -> Document:
    doc = Document("memo")
    doc.line(rng.choice(("NOTE DE SERVICE", "COMPTE RENDU DE RÉUNION", "INFORMATION AUX ÉQUIPES")))
    doc.line(f"Date de diffusion : {_admin_date(rng)}")
    doc.line(
        rng.choice(
            (
                "Destinataires : Mme la Cadre de santé, M. le Directeur des soins",
                "De : M. le Directeur des ressources humaines",
                "À l’attention de Mme la Directrice et de M. le Chef de pôle",
            )
        )
    )
    doc.line(f"SERVICE {filler.of(rng.choice(names.SERVICES)).upper()}")
    doc.line(
        rng.choice(
            (
                "Les chariots d’urgence seront vérifiés chaque lundi. ",
                "La réunion de pôle est déplacée au jeudi. ",
                "Rappel : traçabilité des lots obligatoire. ",
            )
        ),
        f"{filler.capitalised(filler.institutional_contact(rng))}.",
    )
    doc.line("Mme la Cadre de santé reste à votre disposition.")
    return doc


def clinical_question(rng: Random) -> Document:
    doc = Document("clinical_question")
    doc.add(
        rng.choice(
            (
                f"quelle dose de {rng.choice(('amoxicilline', 'ceftriaxone', 'enoxaparine'))} pour "
                f"un patient de {rng.randint(50, 120)} kg avec un dfg à {rng.randint(15, 90)} ?",
                f"explique le {rng.choice(filler.EPONYMS)} à un externe",
                f"différence entre {rng.choice(filler.EPONYMS)} et {rng.choice(filler.EPONYMS)} ?",
                f"résume les {rng.choice(filler.GUIDELINES).lower()} en 10 lignes",
                f"que faire devant {rng.choice(filler.LABS)} chez un patient sous "
                f"{rng.choice(filler.DRUGS)} ?",
                f"code cim-10 pour {rng.choice(names.REASONS)} ? "
                f"j’hésite avec {rng.choice(filler.ICD10)}",
                f"rédige une fiche patient sur la {rng.choice(filler.EPONYMS)}",
            )
        )
    )
    return doc


def anonymous_case(rng: Random) -> Document:
    doc = Document("anonymous_case")
    sex = rng.choice(("Patient", "Patiente"))
    doc.line(
        f"{sex} de {rng.randint(20, 95)} ans, hospitalisé{'e' if sex.endswith('e') else ''} pour ",
        rng.choice(names.REASONS),
        f" à J{rng.randint(1, 12)} d’une chirurgie.",
    )
    doc.line(filler.clinical_paragraph(rng, rng.randint(2, 5)))
    doc.line(f"Discussion en RCP le mardi ; {filler.institutional_contact(rng)}.")
    return doc


def coding(rng: Random) -> Document:
    doc = Document("coding")
    doc.line("DIAGNOSTICS ET ACTES")
    doc.line(f"DP : {rng.choice(filler.ICD10)} – DAS : {', '.join(rng.sample(filler.ICD10, 3))}")
    doc.line(
        f"Actes CCAM : {', '.join(rng.sample(filler.CCAM, 2))} – "
        f"GHM {rng.randint(1, 28):02d}M{rng.randint(10, 99)}{rng.randint(1, 4)}"
    )
    doc.line(f"Dispositif : {filler.lot_number(rng)}")
    return doc


def anonymous_handover(rng: Random) -> Document:
    """Ward handover by room number only: ages, reasons and doses, no name."""
    doc = Document("anonymous_handover")
    doc.line(rng.choice(("TRANSMISSIONS", "relève de 14h", "Staff paramédical")))
    for room in sorted(rng.sample(range(1, 40), rng.randint(2, 5))):
        doc.line(
            f"ch {room} : {rng.choice(('patient', 'patiente', 'Mr', 'Mme'))} de "
            f"{rng.randint(25, 98)} ans, {rng.choice(names.REASONS)} ; ",
            filler.clinical_sentence(rng),
        )
    contact = filler.capitalised(filler.institutional_contact(rng))
    doc.line(f"Matériel : {filler.lot_number(rng)}. {contact}.")
    return doc
