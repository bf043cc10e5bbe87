"""Deterministic generator of the labelled PHI corpus (``tests/phi/corpus.jsonl``).

Each document is assembled piece by piece; every identifier is inserted through
``Doc.phi(text, type)``, which records its exact span, so the gold labels are right by
construction. Everything else (letterheads, look-alikes) goes through ``Doc.add`` and is gold-free.

    python -m tests.phi.make_corpus            # rewrites tests/phi/corpus.jsonl (seed 20240601)
    python -m tests.phi.make_corpus --seed 7 --out /tmp/other.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from pathlib import Path

from tests.phi import admin_documents as admin
from tests.phi import fakes
from tests.phi import lookalikes as look
from tests.phi import ward_documents as ward
from tests.phi.labelled_doc import Doc

CORPUS_SEED = 20240601
HELD_OUT_SEED = 7919
CORPUS_SIZE = 480
CORPUS_PATH = Path(__file__).with_name("corpus.jsonl")


def _birth(doc: Doc, rng: random.Random, *, english: bool = False) -> None:
    french = ["née le ", "né le ", "né(e) le ", "DDN : ", "DDN ", "date de naissance : "]
    lead = rng.choice(["DOB: ", "born on ", "date of birth: "] if english else french)
    doc.add(lead).phi(fakes.date(rng, birth=True, english=english), "BIRTHDATE")


def _address(doc: Doc, rng: random.Random) -> Doc:
    doc.phi(fakes.street(rng), "ADDRESS").add(rng.choice([", ", " ", " - ", ",\n"]))
    return doc.phi(fakes.postcode(rng), "ZIP").add(" ").phi(fakes.city(rng), "CITY")


def _identifier_line(doc: Doc, rng: random.Random) -> None:
    """One administrative identifier with its usual label."""
    pick = rng.randrange(9)
    if pick == 0:
        doc.add(rng.choice(["NIR : ", "N° SS : ", "n° de sécurité sociale ", "INS : ", "NIR "]))
        doc.phi(fakes.nir(rng, corsican=rng.random() < 0.15), "NIR")
    elif pick == 1:
        doc.add(rng.choice(["IPP : ", "IPP ", "IPP n° ", "Identifiant patient : "]))
        doc.phi(fakes.ipp(rng), "IPP")
    elif pick == 2:
        doc.add(rng.choice(["NDA : ", "NDA ", "N° de séjour : ", "Numéro de dossier : "]))
        doc.phi(fakes.nda(rng), "NDA")
    elif pick == 3:
        doc.add(rng.choice(["Tél : ", "tél. ", "Portable : ", "joignable au ", "Tel: "]))
        doc.phi(fakes.phone(rng), "PHONE")
    elif pick == 4:
        doc.add(rng.choice(["IBAN : ", "RIB (IBAN) ", "IBAN pour remboursement : "]))
        doc.phi(fakes.iban(rng), "IBAN")
    elif pick == 5:
        first, last = fakes.first_name(rng), fakes.surname(rng)
        doc.add(rng.choice(["Mail : ", "courriel ", "e-mail : "]))
        doc.phi(fakes.email(rng, first, last), "EMAIL")
    elif pick == 6:
        doc.add(rng.choice(["demeurant ", "domicile : ", "Adresse : "]))
        _address(doc, rng)
    elif pick == 7:
        doc.add(rng.choice(["domiciliée à ", "habite à ", "née à ", "originaire de "]))
        doc.phi(rng.choice(fakes.LEXICON_CITIES), "CITY")
    else:
        doc.add("Admis(e) le ").phi(fakes.date(rng), "DATE")
    doc.add(rng.choice([". ", ", ", "\n", " ; "]))


def prompt(rng: random.Random) -> Doc:
    doc = Doc("prompt")
    doc.add(rng.choice(["Résume ce CR pour ", "Peux-tu rédiger un courrier de sortie pour ",
                        "Reformule l'observation de ", "Propose un plan de soins pour ",
                        "Explique à la famille la situation de "]))  # fmt: skip
    doc.person(rng)
    if rng.random() < 0.8:
        doc.add(", ")
        _birth(doc, rng)
    doc.add(" : ")
    for _ in range(rng.randint(0, 3)):
        _identifier_line(doc, rng)
    doc.add(look.clinical_paragraph(rng, rng.randint(2, 6)))
    return doc


def discharge_letter(rng: random.Random) -> Doc:
    doc = Doc("discharge_letter")
    doc.add(look.letterhead(rng))
    doc.add(rng.choice(fakes.LEXICON_CITIES) + ", le ").phi(fakes.date(rng), "DATE").add("\n\n")
    doc.add("Cher confrère,\n\nJ'ai vu en consultation ")
    doc.person(rng)
    doc.add(", ")
    _birth(doc, rng)
    doc.add(", ")
    for _ in range(rng.randint(1, 3)):
        _identifier_line(doc, rng)
    doc.add("hospitalisé(e) du ").phi(fakes.date(rng), "DATE").add(" au ")
    doc.phi(fakes.date(rng), "DATE").add(".\n")
    doc.add(look.clinical_paragraph(rng, rng.randint(3, 8)) + "\n\nBien confraternellement,\n")
    doc.doctor(rng)
    if rng.random() < 0.5:
        doc.add("\nRPPS : ").phi(fakes.rpps(rng), "RPPS")
    return doc


def prescription(rng: random.Random) -> Doc:
    doc = Doc("prescription")
    if rng.random() < 0.6:
        doc.add(look.letterhead(rng))
    doc.doctor(rng)
    doc.add(rng.choice([" \u2013 RPPS ", "\nN° RPPS : ", ", RPPS : "])).phi(fakes.rpps(rng), "RPPS")
    doc.add("\n\nOrdonnance du ").phi(fakes.date(rng), "DATE").add("\nPatient : ")
    doc.person(rng)
    doc.add("\n")
    _birth(doc, rng)
    doc.add("\n")
    if rng.random() < 0.5:
        doc.add("NIR : ").phi(fakes.nir(rng), "NIR").add("\n")
    for index in range(rng.randint(2, 5)):
        doc.add(f"{index + 1}. {rng.choice(look.DRUGS)}\n")
    return doc


def operative_report(rng: random.Random) -> Doc:
    doc = Doc("operative_report")
    doc.add("COMPTE RENDU OPÉRATOIRE\n\n")
    doc.add("Nom : ").phi(fakes.surname(rng).upper(), "PERSON").add("\n")
    doc.add("Prénom : ").phi(fakes.first_name(rng), "PERSON").add("\n")
    doc.add("IPP : ").phi(fakes.ipp(rng), "IPP").add(rng.choice(["   ", "\n"]))
    doc.add("NDA : ").phi(fakes.nda(rng), "NDA").add("\n")
    doc.add("Date de l'intervention : ").phi(fakes.date(rng), "DATE").add("\n")
    doc.add("Opérateur : ").doctor(rng)
    doc.add("\nAnesthésiste : ").doctor(rng)
    doc.add(f"\nActes CCAM : {rng.choice(look.CCAM)}, {rng.choice(look.CCAM)}\n\n")
    doc.add(look.clinical_paragraph(rng, rng.randint(3, 7)))
    return doc


def admission_form(rng: random.Random) -> Doc:
    doc = Doc("admission_form")
    if rng.random() < 0.5:
        doc.add(look.letterhead(rng))
    doc.add("FICHE D'ADMISSION\n")
    first, last = fakes.first_name(rng), fakes.surname(rng)
    fields: list[Callable[[], object]] = [
        lambda: doc.add("Nom de naissance : ").phi(last.upper(), "PERSON").add("\n"),
        lambda: doc.add("Prénom : ").phi(first, "PERSON").add("\n"),
        lambda: (
            doc.add("Date de naissance : ").phi(fakes.date(rng, birth=True), "BIRTHDATE").add("\n")
        ),
        lambda: _address(doc.add("Adresse : "), rng).add("\n"),
        lambda: doc.add("Téléphone : ").phi(fakes.phone(rng), "PHONE").add("\n"),
        lambda: doc.add("Email : ").phi(fakes.email(rng, first, last), "EMAIL").add("\n"),
        lambda: doc.add("N° de sécurité sociale : ").phi(fakes.nir(rng), "NIR").add("\n"),
        lambda: doc.add("IPP : ").phi(fakes.ipp(rng), "IPP").add("\n"),
        lambda: doc.add("IBAN : ").phi(fakes.iban(rng), "IBAN").add("\n"),
    ]
    for make in rng.sample(fields, rng.randint(4, len(fields))):
        make()
    if rng.random() < 0.6:
        doc.add("Personne à prévenir : ").person(rng).add(" \u2013 ").phi(fakes.phone(rng), "PHONE")
        doc.add("\n")
    doc.add("Motif : " + look.clinical_paragraph(rng, 1))
    return doc


def patient_email(rng: random.Random) -> Doc:
    doc = Doc("email")
    first, last = fakes.first_name(rng), fakes.surname(rng)
    town = fakes.ascii_fold(rng.choice(fakes.LEXICON_CITIES)).lower().replace(" ", "-")
    doc.add("De : ").phi(fakes.email(rng, first, last), "EMAIL")
    doc.add(f"\nÀ : secretariat.consultations@chu-{town}.fr\nObjet : rendez-vous\n\n")
    doc.add("Bonjour,\nJe suis ").phi(f"{first} {last.upper()}", "PERSON")
    doc.add(", ")
    _birth(doc, rng)
    doc.add(". Mon rendez-vous du ").phi(fakes.date(rng), "DATE")
    doc.add(" doit être déplacé. Vous pouvez me joindre au ").phi(fakes.phone(rng), "PHONE")
    doc.add(".\nCordialement,\n").phi(first, "PERSON")
    return doc


def long_record(rng: random.Random) -> Doc:
    doc = Doc("long_record")
    doc.add(look.letterhead(rng))
    doc.add("OBSERVATION MÉDICALE\nPatient : ")
    doc.person(rng)
    doc.add(" \u2013 ")
    _birth(doc, rng)
    doc.add("\n")
    while doc.length < rng.randint(3000, 9000):
        if rng.random() < 0.25:
            _identifier_line(doc, rng)
        elif rng.random() < 0.1:
            doc.add("Vu ce jour par ").doctor(rng).add(". ")
        else:
            doc.add(look.clinical_paragraph(rng, rng.randint(2, 5)) + "\n")
    return doc


def english_note(rng: random.Random) -> Doc:
    doc = Doc("english_note")
    doc.add(rng.choice(["Summarise the discharge letter for ", "Draft a referral for ",
                        "Write a short handover note about "]))  # fmt: skip
    doc.person(rng, english=True)
    doc.add(", ")
    _birth(doc, rng, english=True)
    doc.add(rng.choice([", seen on ", ", admitted on "])).phi(fakes.date(rng, english=True), "DATE")
    if rng.random() < 0.5:
        doc.add(", living at ").phi(fakes.en_street(rng), "ADDRESS")
    if rng.random() < 0.5:
        doc.add(", phone ").phi(fakes.phone(rng), "PHONE")
    doc.add(". " + look.clinical_paragraph(rng, rng.randint(2, 4), english=True))
    return doc


def clean_text(rng: random.Random) -> Doc:
    """An identifier-free document: look-alikes, letterheads, bad checksums."""
    extra = [*ward.CLEAN, *admin.CLEAN]
    shape = rng.randrange(6 + len(extra))
    if shape >= 6:
        return extra[shape - 6](rng)
    doc = Doc("clean_" + ["prompt", "letter", "protocol", "lab", "english", "long"][shape])
    if shape == 0:
        doc.add(rng.choice(["Résume ce compte rendu : ", "Rédige une synthèse : ",
                            "Quelles sont les recommandations pour ce cas ? "]))  # fmt: skip
        doc.add(look.clinical_paragraph(rng, rng.randint(2, 6)))
    elif shape == 1:
        doc.add(look.letterhead(rng))
        doc.add(
            "Cher confrère,\n\nJe vous adresse ce patient de "
            f"{rng.randint(20, 90)} ans. " + look.clinical_paragraph(rng, rng.randint(3, 7))
        )
        doc.add("\n\nBien confraternellement.")
    elif shape == 2:
        doc.add("Protocole de service \u2013 " + rng.choice(look.GUIDELINES) + "\n")
        for _ in range(rng.randint(3, 8)):
            doc.add("- " + look.fill(rng.choice(look.FR_SENTENCES), rng) + "\n")
    elif shape == 3:
        doc.add("Résultats de biologie (prélèvement " + rng.choice(look.TIMES) + ")\n")
        doc.add("\n".join(rng.sample(look.LABS, rng.randint(4, 10))))
    elif shape == 4:
        doc.add(
            "Summarise this anonymised case: "
            + look.clinical_paragraph(rng, rng.randint(2, 5), english=True)
        )
    else:
        doc.add(look.letterhead(rng))
        while doc.length < rng.randint(2500, 7000):
            doc.add(look.clinical_paragraph(rng, rng.randint(2, 5)) + "\n")
    if rng.random() < 0.35:
        doc.add("\n" + look.bad_checksums(rng))
    return doc


_BEARING: list[tuple[Callable[[random.Random], Doc], int]] = [
    (prompt, 6), (discharge_letter, 4), (prescription, 3), (operative_report, 2),
    (admission_form, 3), (patient_email, 2), (long_record, 2), (english_note, 2),
    *ward.BEARING, *admin.BEARING,
]  # fmt: skip


def generate(seed: int, size: int = CORPUS_SIZE) -> list[dict[str, object]]:
    """``size`` labelled documents, 35 % of them identifier-free, a pure function of ``seed``."""
    rng = random.Random(seed)
    makers = [maker for maker, weight in _BEARING for _ in range(weight)]
    documents = []
    for index in range(size):
        doc = clean_text(rng) if rng.random() < 0.35 else rng.choice(makers)(rng)
        documents.append(doc.record(f"{seed}-{index:04d}"))
    return documents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=CORPUS_SEED)
    parser.add_argument("--size", type=int, default=CORPUS_SIZE)
    parser.add_argument("--out", type=Path, default=CORPUS_PATH)
    args = parser.parse_args()
    with args.out.open("w", encoding="utf-8") as sink:
        for document in generate(args.seed, args.size):
            sink.write(json.dumps(document, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
