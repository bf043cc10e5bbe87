"""More identifier-free documents: leaflets, on-call rotas, orders, English policies.

Everything named here belongs to the hospital (its numbers, mailboxes, buildings, hospitals named
after people) or to medicine (eponyms, drugs), so nothing is labelled.
"""

# French typography (curly apostrophes, en dashes, NBSP) is part of what the corpus tests.
# ruff: noqa: RUF001

from __future__ import annotations

from random import Random

from tests.phi.heldout import filler, names
from tests.phi.heldout.document import Document
from tests.phi.heldout.identifiers import NBSP

# Hospitals and buildings named after people: the hospital's own data, never a person.
NAMED_SITES = (
    "Hôpital Édouard Herriot", "Hôpital Henri Mondor", "Hôpital Necker", "Institut Paoli-Calmettes",
    "Hôpital Pasteur", "Centre Oscar Lambret", "Hôpital de la Croix-Rousse", "Pavillon Charcot",
    "Bâtiment Laennec", "Hôpital Morvan", "Clinique Saint-Vincent", "Hôpital Jean Minjoz",
)  # fmt: skip

EXAMS = ("coloscopie", "fibroscopie bronchique", "IRM cérébrale", "coronarographie",
         "biopsie hépatique", "échographie transœsophagienne")  # fmt: skip


def _number(rng: Random, prefix: str) -> str:
    separator = rng.choice((" ", ".", NBSP))
    return separator.join([prefix] + [f"{rng.randint(0, 99):02d}" for _ in range(4)])


def patient_leaflet(rng: Random) -> Document:
    doc = Document("patient_leaflet")
    name, domain, address, switchboard = filler.hospital(rng)
    exam = rng.choice(EXAMS)
    doc.line(f"VOUS ALLEZ BÉNÉFICIER D’UNE {exam.upper()}")
    doc.line(
        f"{name} – {rng.choice(NAMED_SITES)}, "
        + rng.choice(("niveau 2", "aile B", "rez-de-chaussée"))
    )
    doc.line(
        "Madame, Monsieur, votre médecin vous a proposé cet examen. ",
        "La veille, ne mangez plus après minuit. ",
        f"Arrêtez {rng.choice(('le Kardégic', 'l’apixaban', 'la metformine'))} ",
        f"{rng.randint(2, 5)} jours avant si votre médecin vous l’a demandé.",
    )  # fmt: skip
    doc.line(
        f"Pour toute question, appelez le secrétariat au {_number(rng, switchboard[:2])}, ",
        "du lundi au vendredi de 9 h à 17 h, ou écrivez à ",
        f"{rng.choice(('endoscopie', 'imagerie', 'cardio.rdv'))}@{domain}.",
    )  # fmt: skip
    doc.line(
        "En cas d’urgence la nuit ou le week-end, appelez le 15 ou le standard : ", switchboard
    )
    doc.line(f"Adresse : {address}. Parking visiteurs gratuit les 30 premières minutes.")
    doc.line(
        f"Document validé par le comité des usagers – version du {rng.randint(1, 12):02d}/2024."
    )
    return doc


def on_call_rota(rng: Random) -> Document:
    doc = Document("on_call_rota")
    _, _, _, switchboard = filler.hospital(rng)
    doc.line(f"PERMANENCE DES SOINS – {rng.choice(names.SERVICES).upper()}")
    doc.line("Semaine 12 – tableau de garde (fonctions, pas de noms)")
    for role in rng.sample(("Interne de garde", "Senior d’astreinte", "Cadre de nuit",
                            "Pharmacien d’astreinte", "Biologiste de garde", "Anesthésiste"),
                           4):  # fmt: skip
        contact = rng.choice(
            (
                f"bip {rng.randint(1000, 9999)}",
                f"poste {rng.randint(1000, 9999)}",
                f"téléphone d’astreinte {_number(rng, rng.choice(('06', '07')))}",
                f"DECT {rng.randint(40000, 49999)}",
                f"via le standard ({switchboard})",
            )
        )
        doc.line(f"{role} : {contact}")
    doc.line(f"En cas d’indisponibilité : {filler.institutional_contact(rng)}.")
    return doc


def purchase_order(rng: Random) -> Document:
    doc = Document("purchase_order")
    name, domain, address, _ = filler.hospital(rng)
    doc.line("BON DE COMMANDE – PHARMACIE")
    doc.line(
        f"N° de commande : 45{rng.randint(10**7, 10**8 - 1)}   "
        f"Marché n° {rng.randint(2019, 2025)}-{rng.randint(10, 99)}"
    )
    doc.line(f"Établissement : {name} – FINESS {rng.randint(10**8, 10**9 - 1)}")
    for _ in range(rng.randint(2, 4)):
        doc.line(
            f"{rng.choice(filler.DRUGS).split(', ')[0]} – UCD {filler.ucd13(rng)} – "
            f"quantité {rng.randint(10, 500)} – {filler.lot_number(rng)}"
        )
    doc.line(f"Livraison : quai de réception, {address}. Contact : magasin@{domain}")
    doc.line(
        f"Date de commande : {rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/"
        f"{rng.randint(2023, 2025)}"
    )
    return doc


def english_policy(rng: Random) -> Document:
    doc = Document("english_policy")
    _, domain, _, switchboard = filler.hospital(rng)
    doc.line(rng.choice(("HAND HYGIENE POLICY", "Sepsis pathway", "Falls prevention protocol")))
    doc.line(
        f"Version {rng.randint(1, 6)}.{rng.randint(0, 9)}, approved on "
        f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2018, 2024)} by the ",
        rng.choice(("Medical Director", "Director of Nursing", "Infection Control Committee")), ".",
    )  # fmt: skip
    doc.line(
        f"Follow the {rng.choice(('NICE 2016', 'WHO 2009', 'Surviving Sepsis Campaign 2021'))} "
        "guidance. Assess with the Glasgow Coma Scale and the Braden scale on admission; "
        "consider Parkinson's disease and Alzheimer's disease as risk factors."
    )
    doc.line(
        f"Contact the on-call pharmacist on ext. {rng.randint(1000, 9999)} or the switchboard "
        f"({switchboard}); questions to infection.control@{domain}."
    )
    return doc
