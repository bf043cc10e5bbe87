"""The hospitals writing the documents: their own contact data is not a patient identifier."""

from __future__ import annotations

import random
from dataclasses import dataclass

from tests.phi.fresh.people import digits


@dataclass
class Hospital:
    name: str
    street: str
    zip: str
    city: str
    domain: str
    area: str

    def number(self, rng: random.Random) -> str:
        return " ".join([self.area] + [digits(rng, 2) for _ in range(4)])

    def mailbox(self, rng: random.Random) -> str:
        box = rng.choice(["pharmacie", "secretariat.cardio", "sterilisation", "qualite", "dim",
                          "bloc.operatoire", "admissions", "hygiene", "labo.accueil"])  # fmt: skip
        return f"{box}@{self.domain}"

    def letterhead(self) -> str:
        return f"{self.name}\n{self.street}\n{self.zip} {self.city}\n"


HOSPITALS = (
    Hospital("Centre Hospitalier de Kerlivio", "12 rue de l'Hôpital", "29270", "Carhaix",
             "ch-kerlivio.fr", "02"),
    Hospital("CHU Val-de-Rance", "3 boulevard des Sciences", "35000", "Rennes",
             "chu-valderance.fr", "02"),
    Hospital("Hôpital Saint-Aurélien", "45 avenue du Docteur Roux", "69008", "Lyon",
             "hsa-lyon.org", "04"),
    Hospital("Groupe Hospitalier Sud-Garonne", "1 allée des Platanes", "31300", "Toulouse",
             "ghsg.fr", "05"),
)  # fmt: skip
SERVICES = ("cardiologie", "médecine interne", "pneumologie", "gériatrie", "chirurgie viscérale",
            "neurologie", "SSR", "oncologie", "urgences", "néphrologie")  # fmt: skip
DRUGS = (
    "Kardegic 75 mg",
    "Lovenox 4000 UI",
    "amoxicilline 1 g",
    "Doliprane 1 g",
    "furosémide 40 mg",
    "Eliquis 5 mg",
    "insuline glargine 20 UI",
    "Bisoprolol 2,5 mg",
    "morphine 5 mg",
    "Augmentin 1 g/125 mg",
    "vancomycine 1 g",
    "Levothyrox 50 µg",
)
SUPPLIERS = (
    ("Medisteril SAS", "ZI des Landes, 8 rue Ampère", "44800", "Saint-Herblain"),
    ("Laboratoires Verdane", "27 quai de la Loire", "75019", "Paris"),
    ("Biopharm Distribution", "Parc Activa, 2 rue Lavoisier", "38330", "Montbonnot"),
)
