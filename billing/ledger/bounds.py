"""Bounds every ledger value to what its column accepts, so no request can break an insert.

Model names, error messages and the like can come from clients or upstreams: a 300-character
model name or one holding a NUL byte once made a whole insert batch fail on PostgreSQL (which
rejects both), and with it everyone else's records of that batch. The limits are read from the
table itself (:mod:`billing.db.schema`), so they cannot drift from the columns.
"""

from __future__ import annotations

import unicodedata
from operator import attrgetter
from typing import Any

from sqlalchemy import BigInteger, Integer, String

from billing.db.schema import ledger

REPLACEMENT = "\ufffd"
"""Stands for a character that was not kept."""

ELLIPSIS = "\u2026"
"""Ends a value that was cut to fit its column."""

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_COUNTS = frozenset({"prompt_tokens", "completion_tokens", "cached_tokens", "attempts"})

_STRING_LIMITS: tuple[tuple[str, int], ...] = tuple(
    (column.name, column.type.length)
    for column in ledger.columns
    if isinstance(column.type, String) and column.type.length
)


def _integer_range(name: str, column_type: Integer) -> tuple[str, int, int]:
    low, high = _INT64 if isinstance(column_type, BigInteger) else _INT32
    return name, 0 if name in _COUNTS else low, high  # a count is never negative


_INTEGER_RANGES: tuple[tuple[str, int, int], ...] = tuple(
    _integer_range(column.name, column.type)
    for column in ledger.columns
    if isinstance(column.type, Integer)
)


_read_texts = attrgetter(*(name for name, _ in _STRING_LIMITS))
_read_integers = attrgetter(*(name for name, _, _ in _INTEGER_RANGES))


def _printable(char: str) -> str:
    if char.isprintable():
        return char
    # A no-break or other space stays a space; controls, format characters, surrogates and
    # unassigned code points (which PostgreSQL or the journal's UTF-8 may refuse) do not stay.
    return " " if unicodedata.category(char) == "Zs" else REPLACEMENT


def bounded_text(value: str, limit: int) -> str:
    """``value`` with every non-printable character replaced, cut to at most ``limit``
    characters (an ellipsis marks the cut). PostgreSQL's ``varchar(n)`` counts characters,
    as ``len`` does."""
    cut = len(value) > limit
    kept = "".join(_printable(char) for char in value[:limit])
    return kept[: limit - 1] + ELLIPSIS if cut else kept


def bound_values(record: Any) -> None:
    """Make every text and integer field of a ledger record fit its column, in place.

    Values that already fit (nearly all of them) are left as they are, at the cost of a length
    and ``isprintable`` check (all fields read at once: this runs for every request).
    """
    for (name, limit), value in zip(_STRING_LIMITS, _read_texts(record), strict=True):
        if value is None or (type(value) is str and len(value) <= limit and value.isprintable()):
            continue
        setattr(record, name, bounded_text(str(value), limit))
    for (name, low, high), number in zip(_INTEGER_RANGES, _read_integers(record), strict=True):
        if type(number) is int and not low <= number <= high:
            setattr(record, name, min(max(number, low), high))
