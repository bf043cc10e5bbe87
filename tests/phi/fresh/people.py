"""Names, places and identifiers of imaginary patients (own lists, not the detector's)."""

from __future__ import annotations

import random
from dataclasses import dataclass

SURNAMES = (
    "Quéméner",
    "Baudouin",
    "Lhermitte",
    "Castagné",
    "Pelletreau",
    "Vidalenc",
    "Marchetti",
    "Bouvard",
    "Kerjean",
    "Tessier",
    "Douillard",
    "Rambaud",
    "Chevrier",
    "Le Goff",
    "Ferrandi",
    "Sabatier",
    "Guillou",
    "Abiven",
    "Delmas",
    "Peyrot",
    "Lacombe",
    "Etchegaray",
    "Hoarau",
    "Nguyen",
    "Benali",
    "Mbaye",
    "Kowalski",
    "Da Silva",
    "Ollivier",
    "Jaouen",
    "Lagarde",
    "Brisset",
    "Cazenave",
    "Morvan",
    "Fourcade",
    "Giraudet",
    "Pasquier",
    "Vautrin",
    "Collet",
    "Bénard",
    "Huchet",
    "Aubertin",
    "Delacroix",
    "Maréchal",
    "Rousselot",
    "Thibaud",
    "Ducasse",
    "Labbé",
    "Poirier",
    "Grosjean",
    "Hamon",
)
FIRST_F = (
    "Maëlle",
    "Gisèle",
    "Solène",
    "Odile",
    "Yvette",
    "Anaïs",
    "Bérénice",
    "Capucine",
    "Ginette",
    "Lucienne",
    "Nadège",
    "Ophélie",
    "Rolande",
    "Sylvie",
    "Thérèse",
    "Yasmina",
    "Fatou",
    "Amandine",
    "Colette",
    "Edwige",
    "Paulette",
    "Aurore",
)
FIRST_M = (
    "Gaëtan",
    "Jean-Baptiste",
    "Loïc",
    "Marcel",
    "Norbert",
    "Roger",
    "Thibault",
    "Yannick",
    "Abdel",
    "Didier",
    "Fernand",
    "Gilbert",
    "Hervé",
    "Killian",
    "Ludovic",
    "Raymond",
    "Serge",
    "Tanguy",
    "Wilfried",
    "Mamadou",
    "Bastien",
    "Éloi",
)
# Places of residence or birth: (city, postcode).
PLACES = (
    ("Quimperlé", "29300"),
    ("Landerneau", "29800"),
    ("Millau", "12100"),
    ("Figeac", "46100"),
    ("Pontarlier", "25300"),
    ("Auxerre", "89000"),
    ("Dax", "40100"),
    ("Lunéville", "54300"),
    ("Saint-Brieuc", "22000"),
    ("Montbrison", "42600"),
    ("Carpentras", "84200"),
    ("Villeneuve-sur-Lot", "47300"),
    ("Saint-Dié-des-Vosges", "88100"),
    ("Guingamp", "22200"),
    ("Issoire", "63500"),
    ("Bourg-en-Bresse", "01000"),
    ("Ajaccio", "20000"),
    ("Le Puy-en-Velay", "43000"),
    ("Thonon-les-Bains", "74200"),
    ("Abbeville", "80100"),
)
STREETS = (
    "rue des Tanneurs",
    "impasse du Moulin",
    "chemin de la Croix-Blanche",
    "avenue Jean Jaurès",
    "allée des Tilleuls",
    "rue du Four",
    "boulevard Gambetta",
    "lieu-dit Kervern",
    "route de Brest",
    "place du Marché",
    "rue Pasteur",
    "résidence les Glycines, bât. B",
)


@dataclass
class Person:
    first: str
    last: str
    female: bool
    city: str
    zip: str
    street: str

    @property
    def title(self) -> str:
        return "Mme" if self.female else "M."


def person(rng: random.Random) -> Person:
    female = rng.random() < 0.5
    city, code = rng.choice(PLACES)
    street = f"{rng.randint(1, 140)}{rng.choice(['', '', ' bis', ' ter'])} {rng.choice(STREETS)}"
    first = rng.choice(FIRST_F if female else FIRST_M)
    return Person(first, rng.choice(SURNAMES), female, city, code, street)


def digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def mobile(rng: random.Random) -> str:
    pairs = [rng.choice(["06", "07"])] + [digits(rng, 2) for _ in range(4)]
    style = rng.random()
    if style < 0.5:
        return " ".join(pairs)
    if style < 0.7:
        return ".".join(pairs)
    if style < 0.85:
        return "".join(pairs)
    return "+33 " + pairs[0][1] + " " + " ".join(pairs[1:])


def landline(rng: random.Random, area: str = "") -> str:
    head = area or rng.choice(["01", "02", "03", "04", "05"])
    return " ".join([head] + [digits(rng, 2) for _ in range(4)])


def birthdate(rng: random.Random) -> tuple[int, int, int]:
    return rng.randint(1, 28), rng.randint(1, 12), rng.randint(1931, 2006)


def date_text(rng: random.Random, day: int, month: int, year: int) -> str:
    months = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
    style = rng.random()
    if style < 0.5:
        return f"{day:02d}/{month:02d}/{year}"
    if style < 0.7:
        return f"{day} {months.split()[month - 1]} {year}"
    if style < 0.85:
        return f"{day:02d}.{month:02d}.{year}"
    return f"{day}/{month}/{str(year)[2:]}"


def care_date(rng: random.Random, year: bool = True) -> str:
    day, month = rng.randint(1, 28), rng.randint(1, 12)
    return f"{day:02d}/{month:02d}/{rng.choice([2025, 2026])}" if year else f"{day:02d}/{month:02d}"


def ipp(rng: random.Random) -> str:
    return rng.choice(["80", "80", "3", "1"]) + digits(rng, 8 if rng.random() < 0.7 else 6)


def nda(rng: random.Random) -> str:
    return rng.choice(["2", "9", "5"]) + digits(rng, 8)


def nir(rng: random.Random, female: bool, year: int, month: int) -> str:
    dept = rng.choice(["29", "75", "13", "69", "22", "40"])
    body = f"{2 if female else 1}{year % 100:02d}{month:02d}{dept}{digits(rng, 3)}{digits(rng, 3)}"
    key = 97 - int(body) % 97
    spaced = f"{body[0]} {body[1:3]} {body[3:5]} {body[5:7]} {body[7:10]} {body[10:13]} {key:02d}"
    return spaced if rng.random() < 0.6 else body + f"{key:02d}"


def iban(rng: random.Random) -> str:
    bban = digits(rng, 23)
    numeric = bban + "1527" + "00"  # F=15 R=27
    check = 98 - int(numeric) % 97
    raw = f"FR{check:02d}{bban}"
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def rpps(rng: random.Random) -> str:
    body = "10" + digits(rng, 8)
    total = 0
    for index, char in enumerate(reversed(body)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return body + str((10 - total % 10) % 10)


def email(rng: random.Random, who: Person) -> str:
    local = rng.choice(
        [f"{who.first}.{who.last}", f"{who.first[0]}{who.last}", f"{who.last}{rng.randint(1, 99)}"]
    )
    local = local.lower().replace(" ", "").replace("é", "e").replace("è", "e").replace("ë", "e")
    local = local.replace("ï", "i").replace("ç", "c").replace("-", "")
    return f"{local}@{rng.choice(['orange.fr', 'gmail.com', 'laposte.net', 'free.fr'])}"
