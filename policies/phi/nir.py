"""French social-security numbers (NIR, also the INS-NIR identity of the patient) with their key."""

from __future__ import annotations

# What follows the first digit (sex: 1, 2, 3, 7 or 8) in the numeric scanner: year, month,
# department (2 digits or 2A/2B), commune, order and key, each optionally preceded by one space,
# dot or dash as people type them ("1 56 03 75 112 345 67"); the key may stand after a slash, a
# dash or the word "clé" ("1 56 03 75 112 345 / 67").
NIR_AFTER_FIRST_DIGIT = (
    r"(?<=[12378])[ .\-]?\d\d[ .\-]?\d\d[ .\-]?(?:\d\d|2[ABab])[ .\-]?\d\d\d[ .\-]?\d\d\d"
    r"(?:[ .\-]?|[ ]?[/\-][ ]?|[ ]+(?:cl[ée][ ]?:?[ ]?)?)\d\d"
    r"(?![\w]|[.,]\d)"
)


def nir_key(first13: str) -> int:
    """The 2-digit key (97 - n mod 97) of the 13 leading characters of a NIR.

    Corsican departments are handled by the standard substitution: 2A counts as 19 and 2B as 18.
    Raises ValueError when ``first13`` is not 13 digits after that substitution.
    """
    normalised = first13.upper().replace("2A", "19").replace("2B", "18")
    if len(normalised) != 13 or not normalised.isascii() or not normalised.isdigit():
        raise ValueError(f"not the 13 leading characters of a NIR: {first13!r}")
    return 97 - int(normalised) % 97


def is_valid_nir(value: str) -> bool:
    """True when ``value`` (spaces and dots allowed) is a NIR with a plausible month and right key.

    Months 01-12 are accepted, and 20-42 and 50-99, which registries use for unknown or
    provisional months.
    """
    compact = "".join(char for char in value if char.isalnum())
    compact = compact.upper().replace("CLÉ", "").replace("CLE", "")
    if len(compact) != 15 or not compact[13:].isdigit() or not compact[3:5].isdigit():
        return False
    month = int(compact[3:5])
    if month == 0 or 13 <= month <= 19 or 43 <= month <= 49:
        return False
    try:
        return nir_key(compact[:13]) == int(compact[13:])
    except ValueError:
        return False
