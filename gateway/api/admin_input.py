"""Bounded, printable text for the admin API: what an administrator may type into a field.

Every string an admin sends ends up in a database column of bounded length. PostgreSQL refuses a
value longer than its column, or one holding a NUL byte, with an error that would surface as a
500; these types refuse such input up front with a 400 that names the field.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

# Column widths of billing/db/schema.py.
DEPARTMENT_NAME_MAX = 64
USERNAME_MAX = 128
DISPLAY_NAME_MAX = 200
USE_CASE_MAX = 128
KEY_NAME_MAX = 200
KEY_ID_MAX = 32


def printable(value: str) -> str:
    """``value`` unless it holds a control or unassigned character (NUL, escapes, U+FFFF...)."""
    for char in value:
        if unicodedata.category(char) in ("Cc", "Cs", "Cn"):
            raise ValueError(f"must not contain the character U+{ord(char):04X}")
    return value


def _text(max_length: int, *, min_length: int = 0) -> object:
    return StringConstraints(min_length=min_length, max_length=max_length)


DepartmentName = Annotated[str, _text(DEPARTMENT_NAME_MAX, min_length=1), AfterValidator(printable)]
Username = Annotated[str, _text(USERNAME_MAX, min_length=1), AfterValidator(printable)]
DisplayName = Annotated[str, _text(DISPLAY_NAME_MAX), AfterValidator(printable)]
UseCase = Annotated[str, _text(USE_CASE_MAX, min_length=1), AfterValidator(printable)]
KeyName = Annotated[str, _text(KEY_NAME_MAX), AfterValidator(printable)]
KeyId = Annotated[str, _text(KEY_ID_MAX, min_length=1), AfterValidator(printable)]


def valid_text(value: str, max_length: int) -> bool:
    """True when ``value`` could be stored in a column of ``max_length`` (for path parameters)."""
    if not value or len(value) > max_length:
        return False
    try:
        printable(value)
    except ValueError:
        return False
    return True
