"""Fake but well-formed identifiers and look-alikes for the PHI corpus (no real person's data).

Every generator takes a ``random.Random`` so that the corpus is a pure function of its seed.
Checksummed identifiers are valid by construction; the ``invalid_*`` ones are deliberately not.
"""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path

from policies.phi.luhn import luhn_valid
from policies.phi.nir import nir_key

DATA = Path(__file__).resolve().parents[2] / "policies" / "phi" / "data"


def _lexicon(name: str) -> list[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


# Names drawn from the detector's lexicons (real patients are called "Bernard" or "Rose" too) ...
LEXICON_FIRST = _lexicon("first_names.txt")
LEXICON_SURNAMES = _lexicon("surnames.txt")
LEXICON_CITIES = [c for c in _lexicon("cities.txt") if " " not in c]
# ... and names the lexicons do not hold, so that rules which do not rest on them are exercised.
OTHER_FIRST = [
    "Yasmine",
    "Nour",
    "Moussa",
    "Kylian",
    "Maëlys",
    "Inaya",
    "Soline",
    "Ilyès",
    "Awa",
    "Tiago",
    "Eliott",
    "Lyna",
    "Aylin",
    "Ambre",
    "Nolan",
    "Anouck",
    "Ewen",
    "Maïwenn",
    "Gwenaëlle",
    "Yannick",
    "Loïc",
    "Soizic",
    "Erwan",
    "Nolwenn",
    "Djibril",
    "Fatoumata",
    "Thiago",
    "Mathis",
]
OTHER_SURNAMES = [
    *[
        "Kermarrec",
        "Ouédraogo",
        "Benali",
        "Diallo",
        "Traoré",
        "Haddad",
        "Bensaïd",
        "Pereira",
        "Quéré",
        "Kerjean",
        "Abgrall",
    ],
    *[
        "Tanguy-Morvan",
        "Castagnède",
        "Etcheverry",
        "Iribarne",
        "Zerbib",
        "Nakache",
        "Ferreira",
        "Mendes",
        "Oukaci",
    ],
    *[
        "Lemarchand",
        "Vandenbussche",
        "Dumoulin-Roche",
        "Caradec",
        "Guivarch",
        "Hamelin",
        "Rakotomalala",
    ],
    "Le Bihan",
    "Nguyen-Van",
    "Da Costa",
    "de Kerguelen",
]
OTHER_CITIES = [
    "Plougastel-Daoulas",
    "Carhaix-Plouguer",
    "Montbrison",
    "Issoire",
    "Lamballe",
    "Landerneau",
    "Quimperlé",
    "Saint-Jean-de-Luz",
    "Oloron-Sainte-Marie",
    "Pithiviers",
    "Étampes",
    "Gien",
    "Loudéac",
    "Ploërmel",
    "Paimpol",
]
STREETS = [
    "des Lilas", "Victor Hugo", "de la République", "du Général Leclerc", "Jean Jaurès",
    "des Acacias", "de l'Église", "du Moulin", "Pasteur", "Gambetta", "de la Gare", "des Écoles",
    "Saint-Michel", "du 8 Mai 1945", "Émile Zola", "des Peupliers", "de Verdun", "Foch",
    "des Tilleuls", "du Château", "de la Liberté", "Paul Bert", "des Roses", "de Bretagne",
    "du Stade", "Anatole France", "de la Paix", "des Vignes", "Jules Ferry", "du Port",
]  # fmt: skip
VOIES = ["rue", "rue", "avenue", "boulevard", "bd", "chemin", "allée", "impasse", "place", "quai",
         "route", "cours", "Rue", "Avenue", "Allée"]  # fmt: skip
EN_STREETS = ["Baker Street", "Main Street", "Oak Road", "Church Lane", "Park Avenue",
              "Station Road", "High Street", "Elm Drive", "Mill Lane", "Victoria Road"]  # fmt: skip
MAIL_DOMAINS = ["gmail.com", "orange.fr", "wanadoo.fr", "free.fr", "laposte.net", "hotmail.fr",
                "yahoo.fr", "sfr.fr", "outlook.com", "icloud.com", "protonmail.com"]  # fmt: skip
TITLES_F = ["Mme", "Mme", "Madame", "Mme.", "Mlle"]
TITLES_M = ["M.", "M.", "Monsieur", "Mr"]
DOCTOR_TITLES = ["Dr", "Dr", "Dr.", "Docteur", "Pr", "Professeur"]
DEPARTMENTS = [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B", "971", "974"]


def ascii_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def first_name(rng: random.Random) -> str:
    return rng.choice(OTHER_FIRST) if rng.random() < 0.2 else rng.choice(LEXICON_FIRST)


def surname(rng: random.Random) -> str:
    return rng.choice(OTHER_SURNAMES) if rng.random() < 0.25 else rng.choice(LEXICON_SURNAMES)


def city(rng: random.Random) -> str:
    return rng.choice(OTHER_CITIES) if rng.random() < 0.2 else rng.choice(LEXICON_CITIES)


def postcode(rng: random.Random) -> str:
    return f"{rng.randint(1, 95):02d}{rng.randint(0, 999):03d}"


def _nir_body(rng: random.Random) -> str:
    department = rng.choice(DEPARTMENTS)
    commune = f"{rng.randint(1, 99 if len(department) == 3 else 999):0{5 - len(department)}d}"
    month = rng.choice([f"{m:02d}" for m in range(1, 13)] + ["20", "99"])
    order = f"{rng.randint(1, 999):03d}"
    return f"{rng.choice('12')}{rng.randint(0, 99):02d}{month}{department}{commune}{order}"


def _format_nir(body: str, key: int, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"{body}{key:02d}"
    return f"{body[0]} {body[1:3]} {body[3:5]} {body[5:7]} {body[7:10]} {body[10:13]} {key:02d}"


def nir(rng: random.Random, *, corsican: bool = False) -> str:
    body = _nir_body(rng)
    if corsican:
        body = body[:5] + rng.choice(["2A", "2B"]) + f"{rng.randint(1, 999):03d}" + body[10:]
    return _format_nir(body, nir_key(body), rng)


def invalid_nir(rng: random.Random) -> str:
    body = _nir_body(rng)
    return _format_nir(body, (nir_key(body) + rng.randint(1, 90)) % 97 + 1, rng)


_IBAN_SHAPES = {"FR": "n10a11n2", "DE": "n18", "BE": "n12", "ES": "n20", "IT": "a1n10a12",
                "GB": "a4n14", "CH": "n17", "LU": "n16", "PT": "n21", "NL": "a4n10"}  # fmt: skip


def _bban(country: str, rng: random.Random) -> str:
    shape = _IBAN_SHAPES[country]
    out = []
    i = 0
    while i < len(shape):
        kind = shape[i]
        j = i + 1
        while j < len(shape) and shape[j].isdigit():
            j += 1
        count = int(shape[i + 1 : j])
        alphabet = "0123456789" if kind == "n" else "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        if kind == "a" and country in {"GB", "NL", "IT"}:
            alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        out.append("".join(rng.choice(alphabet) for _ in range(count)))
        i = j
    return "".join(out)


def _iban_check(country: str, bban: str) -> int:
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return 98 - int(digits) % 97


def _format_iban(compact: str, rng: random.Random) -> str:
    if rng.random() < 0.35:
        return compact
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def iban(rng: random.Random) -> str:
    country = "FR" if rng.random() < 0.6 else rng.choice(sorted(_IBAN_SHAPES))
    bban = _bban(country, rng)
    return _format_iban(f"{country}{_iban_check(country, bban):02d}{bban}", rng)


def invalid_iban(rng: random.Random) -> str:
    country = rng.choice(sorted(_IBAN_SHAPES))
    bban = _bban(country, rng)
    wrong = (_iban_check(country, bban) + rng.randint(1, 50)) % 97 + 2
    return _format_iban(f"{country}{wrong:02d}{bban}", rng)


def _luhn_complete(prefix: str) -> str:
    return next(prefix + d for d in "0123456789" if luhn_valid(prefix + d))


def rpps(rng: random.Random) -> str:
    return _luhn_complete("10" + "".join(rng.choice("0123456789") for _ in range(8)))


def invalid_rpps(rng: random.Random) -> str:
    valid = rpps(rng)
    return valid[:-1] + str((int(valid[-1]) + rng.randint(1, 9)) % 10)


def siret(rng: random.Random) -> str:
    value = _luhn_complete("".join(rng.choice("0123456789") for _ in range(13)))
    return value if rng.random() < 0.5 else f"{value[:3]} {value[3:6]} {value[6:9]} {value[9:]}"


def phone(rng: random.Random, *, mobile: bool | None = None) -> str:
    is_mobile = rng.random() < 0.6 if mobile is None else mobile
    lead = rng.choice("67") if is_mobile else rng.choice("123459")
    pairs = [f"{rng.randint(0, 99):02d}" for _ in range(4)]
    style = rng.random()
    if style < 0.45:
        return " ".join([f"0{lead}", *pairs])
    if style < 0.6:
        return ".".join([f"0{lead}", *pairs])
    if style < 0.68:
        return "-".join([f"0{lead}", *pairs])
    if style < 0.78:
        return f"0{lead}" + "".join(pairs)
    if style < 0.9:
        return f"+33 {lead} " + " ".join(pairs)
    if style < 0.95:
        return f"+33{lead}" + "".join(pairs)
    return rng.choice(["0033 ", "+33 (0)"]) + f"{lead} " + " ".join(pairs)


def email(rng: random.Random, first: str, last: str) -> str:
    f, s = ascii_fold(first).lower().replace(" ", ""), ascii_fold(last).lower().replace(" ", "")
    local = rng.choice([f"{f}.{s}", f"{f[0]}.{s}", f"{s}.{f}", f"{f}{s}{rng.randint(1, 99)}",
                        f"{f}_{s}", f"{s}{rng.randint(1950, 2005)}"])  # fmt: skip
    return f"{local}@{rng.choice(MAIL_DOMAINS)}"


_FR_MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
              "septembre", "octobre", "novembre", "décembre"]  # fmt: skip
_EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December"]  # fmt: skip


def date(rng: random.Random, *, birth: bool = False, english: bool = False) -> str:
    year = rng.randint(1925, 2005) if birth else rng.randint(2019, 2025)
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    style = rng.random()
    if english:
        if style < 0.35:
            return f"{_EN_MONTHS[month - 1]} {day}, {year}"
        if style < 0.6:
            return f"{day} {_EN_MONTHS[month - 1]} {year}"
        if style < 0.8:
            return f"{month:02d}/{day:02d}/{year}"
        return f"{year}-{month:02d}-{day:02d}"
    if style < 0.4:
        return f"{day:02d}/{month:02d}/{year}"
    if style < 0.5:
        return f"{day}/{month}/{year}"
    if style < 0.58:
        return f"{day:02d}.{month:02d}.{year}"
    if style < 0.68:
        return f"{year}-{month:02d}-{day:02d}"
    if style < 0.9:
        return f"{'1er' if day == 1 else day} {_FR_MONTHS[month - 1]} {year}"
    if style < 0.95 and not birth:
        return f"{day} {_FR_MONTHS[month - 1]}"
    return f"{day:02d}/{month:02d}/{year % 100:02d}"


def street(rng: random.Random) -> str:
    number = str(rng.randint(1, 250))
    if rng.random() < 0.1:
        number += rng.choice([" bis", " ter", "B"])
    return f"{number} {rng.choice(VOIES)} {rng.choice(STREETS)}"


def en_street(rng: random.Random) -> str:
    return f"{rng.randint(1, 400)} {rng.choice(EN_STREETS)}"


def ipp(rng: random.Random) -> str:
    return str(rng.randint(10**5, 10**10 - 1))


def nda(rng: random.Random) -> str:
    return f"{rng.randint(2019, 2025)}{rng.randint(0, 999999):06d}"
