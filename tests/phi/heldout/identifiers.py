"""Valid identifiers (NIR, IBAN, RPPS), phone numbers and dates, with their checks.

The checks are written from the public definitions (INSEE key, ISO 13616 mod 97, Luhn), not
taken from the detector, so the corpus tests can verify every labelled value independently.
"""

from __future__ import annotations

import datetime
import re
from random import Random

NBSP = "\u00a0"
NARROW_NBSP = "\u202f"

MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)  # fmt: skip
MONTHS_EN = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


def nir_key(first13: str) -> int:
    """INSEE key of a 13-character NIR; Corsica's 2A/2B count as 19/18."""
    digits = first13.replace("2A", "19").replace("2B", "18")
    return 97 - int(digits) % 97


def nir_is_valid(value: str) -> bool:
    compact = re.sub(r"\s", "", value)
    if not re.fullmatch(r"[12]\d{4}(\d{2}|2A|2B)\d{8}", compact):
        return False
    return nir_key(compact[:13]) == int(compact[13:])


def make_nir(rng: Random, male: bool, birth: datetime.date) -> str:
    department = rng.choice(("29", "01", "75", "2A", "2B", "69", "13", "59", "33", "99", "56"))
    commune = f"{rng.randint(1, 399):03d}"
    order = f"{rng.randint(1, 999):03d}"
    first13 = (
        f"{1 if male else 2}{birth.year % 100:02d}{birth.month:02d}{department}{commune}{order}"
    )
    key = f"{nir_key(first13):02d}"
    style = rng.randrange(4)
    if style == 0:
        return first13 + key
    parts = [first13[0], first13[1:3], first13[3:5], first13[5:7], first13[7:10], first13[10:13]]
    separator = NBSP if style == 3 else " "
    return separator.join([*parts, key])


def iban_is_valid(value: str) -> bool:
    compact = re.sub(r"\s", "", value).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def make_iban(rng: Random) -> str:
    bank = f"{rng.choice((30002, 30003, 30004, 10278, 16006, 20041, 18206, 13507)):05d}"
    branch = f"{rng.randint(0, 99999):05d}"
    account = f"{rng.randint(0, 10**11 - 1):011d}"
    rib = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
    bban = f"{bank}{branch}{account}{rib:02d}"
    check = 98 - int("".join(str(int(c, 36)) for c in bban + "FR00")) % 97
    compact = f"FR{check:02d}{bban}"
    if rng.random() < 0.3:
        return compact
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def luhn_is_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def make_rpps(rng: Random) -> str:
    body = "10" + f"{rng.randint(0, 10**8 - 1):08d}"
    return next(body + str(d) for d in range(10) if luhn_is_valid(body + str(d)))


def make_mobile(rng: Random) -> str:
    """A personal number in one of the ways people write them (mobile or home line)."""
    prefix = rng.choice(("06", "07", "06", "07", "02", "03", "04", "05", "09"))
    pairs = [prefix] + [f"{rng.randint(0, 99):02d}" for _ in range(4)]
    style = rng.randrange(9)
    if style == 0:
        return "".join(pairs)
    if style == 1:
        return ".".join(pairs)
    if style == 2:
        return rng.choice((NBSP, NARROW_NBSP)).join(pairs)
    if style == 7:
        return "(+33) " + pairs[0][1] + " " + " ".join(pairs[1:])
    if style == 8:
        return "0033 " + pairs[0][1] + " " + " ".join(pairs[1:])
    if style == 3:
        return "+33 " + pairs[0][1] + " " + " ".join(pairs[1:])
    if style == 4:
        return "+33" + pairs[0][1] + "".join(pairs[1:])
    if style == 5:
        return "-".join(pairs)
    return " ".join(pairs)


def make_hospital_id(rng: Random, prefix: str = "80") -> str:
    """IPP or stay number in the 10-digit shape many French hospital systems use."""
    return prefix + f"{rng.randint(0, 10**8 - 1):08d}"


def birth_date(rng: Random) -> datetime.date:
    return datetime.date(1928, 1, 1) + datetime.timedelta(days=rng.randint(0, 33000))


def care_date(rng: Random) -> datetime.date:
    return datetime.date(2022, 1, 1) + datetime.timedelta(days=rng.randint(0, 1400))


def french_date(rng: Random, day: datetime.date, with_year: bool = True) -> str:
    """A date as clinicians write it in French (numeric, spelt, short year...)."""
    month = MONTHS_FR[day.month - 1]
    first = "1er" if day.day == 1 else str(day.day)
    if not with_year:
        return rng.choice(
            (f"{first} {month}", f"{day.day:02d}/{day.month:02d}", f"{first} {month}")
        )
    style = rng.randrange(8)
    if style == 0:
        return f"{day.day}/{day.month}/{day.year}"
    if style == 1:
        return f"{first} {month} {day.year}"
    if style == 2:
        return f"{day.day:02d}.{day.month:02d}.{day.year}"
    if style == 3:
        return f"{day.day:02d}/{day.month:02d}/{day.year % 100:02d}"
    if style == 4:
        return day.isoformat()
    if style == 5:
        return f"{day.day:02d}-{day.month:02d}-{day.year}"
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def english_date(rng: Random, day: datetime.date) -> str:
    month = MONTHS_EN[day.month - 1]
    return rng.choice(
        (
            f"{month} {day.day}, {day.year}",
            f"{day.day} {month[:3]} {day.year}",
            f"{day.day:02d}/{day.month:02d}/{day.year}",
            day.isoformat(),
            f"{day.day} {month} {day.year}",
        )
    )
