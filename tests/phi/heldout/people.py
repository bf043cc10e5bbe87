"""Imaginary patients, relatives and clinicians, and the ways their names get written."""

from __future__ import annotations

import datetime
import unicodedata
from dataclasses import dataclass
from random import Random

from tests.phi.heldout import names
from tests.phi.heldout.identifiers import (
    birth_date,
    make_hospital_id,
    make_iban,
    make_mobile,
    make_nir,
)


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    male: bool
    birth: datetime.date
    birth_city: str
    street: str
    zip_code: str
    city: str
    phone: str
    email: str
    nir: str
    iban: str
    ipp: str
    nda: str

    @property
    def civility(self) -> str:
        return "M." if self.male else "Mme"

    @property
    def born(self) -> str:
        return "né" if self.male else "née"


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isalnum() or c in ".-_").lower()


def make_person(rng: Random, male: bool | None = None) -> Person:
    if male is None:
        male = rng.random() < 0.5
    first = rng.choice(names.MALE_FIRST if male else names.FEMALE_FIRST)
    last = rng.choice(names.SURNAMES)
    birth = birth_date(rng)
    city, zip_code = rng.choice(names.CITIES)
    if rng.random() < 0.15:
        birth_city = rng.choice(names.BIRTH_ABROAD)
    else:
        birth_city = rng.choice(names.CITIES)[0]
    number = f"{rng.randint(1, 180)}{rng.choice(('', '', '', ' bis', ' ter'))}"
    street = f"{number} {rng.choice(names.STREET_TYPES)} {rng.choice(names.STREET_NAMES)}"
    if rng.random() < 0.08:
        street = f"lieu-dit {rng.choice(('Kerhuel', 'Le Bourg', 'La Métairie', 'Penker'))}"
    user = rng.choice(
        (
            f"{_ascii(first)}.{_ascii(last)}",
            f"{_ascii(first)[0]}{_ascii(last)}{rng.randint(1, 99)}",
            f"{_ascii(last)}.{_ascii(first)}{birth.year % 100:02d}",
            f"{_ascii(first)}{_ascii(last)[:3]}",
        )
    ).replace(" ", "")
    return Person(
        first=first,
        last=last,
        male=male,
        birth=birth,
        birth_city=birth_city,
        street=street,
        zip_code=zip_code,
        city=city,
        phone=make_mobile(rng),
        email=f"{user}@{rng.choice(names.EMAIL_DOMAINS)}",
        nir=make_nir(rng, male, birth),
        iban=make_iban(rng),
        ipp=make_hospital_id(rng, rng.choice(("80", "12", "00", "55"))),
        nda=make_hospital_id(rng, rng.choice(("23", "24", "25"))),
    )


def full_name(rng: Random, person: Person) -> str:
    """The name as it appears in running text or headers: many orders and cases."""
    style = rng.randrange(7)
    if style == 0:
        return f"{person.last.upper()} {person.first}"
    if style == 1:
        return f"{person.first} {person.last.upper()}"
    if style == 2:
        return f"{person.last} {person.first}"
    return f"{person.first} {person.last}"


def initial_name(person: Person) -> str:
    """Initials and surname: A. Barbier, J.-P. Durand for compound first names."""
    parts = person.first.split("-")
    initials = "-".join(p[0] + "." for p in parts)
    return f"{initials} {person.last}"


def clinician_name(rng: Random, person: Person) -> str:
    style = rng.randrange(4)
    if style == 0:
        return initial_name(person)
    if style == 1:
        return person.last
    if style == 2:
        return f"{person.first} {person.last}"
    return f"{person.last.upper()}"
