"""Exact money arithmetic: euros as ``Decimal``, integer micro-euros, cent rounding, allocation.

Guarantees:

* No float ever becomes money: :func:`parse_amount` refuses floats, NaN and infinities.
* Rounding to the cent uses ``ROUND_HALF_EVEN`` (banker's rounding). A chargeback statement
  adds up many rounded lines; rounding halves to the even cent keeps the sum of rounded lines
  unbiased, where ``ROUND_HALF_UP`` would push every tie the same way.
* Micro-euros (1 EUR = 1,000,000 µEUR) are the unit of the quota counters, which must be
  integers to be incremented atomically; the conversion rounds half-even too unless told
  otherwise (a quota reservation may ask for ``ROUND_CEILING`` to never under-reserve).
* :func:`round_parts` rounds amounts to the cent so that the rounded parts add up to their
  exact sum rounded once (largest-remainder method).
* :func:`allocate` splits an amount into parts, in proportion to weights, whose rounded values
  add up to the rounded amount exactly (largest-remainder method).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from fractions import Fraction

CENT = Decimal("0.01")
"""The smallest amount shown on a statement or an allocation line."""

ROUNDING = ROUND_HALF_EVEN
"""The rounding mode used for every cent and micro-euro conversion in Hygie."""

MICROS_PER_EUR = 1_000_000
ZERO = Decimal(0)


class InvalidAmount(ValueError):
    """A value cannot be used as money (a float, NaN, infinity, unparsable text)."""


def parse_amount(value: str | int | Decimal) -> Decimal:
    """Turn configuration text, an int or a Decimal into a finite ``Decimal``.

    Floats are refused: their binary value is rarely the decimal number that was written.
    """
    if isinstance(value, bool | float):
        raise InvalidAmount(f"money must be given as text or Decimal, not {type(value).__name__}")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise InvalidAmount(f"not a decimal number: {value!r}") from exc
    if not amount.is_finite():
        raise InvalidAmount(f"not a finite amount: {value!r}")
    return amount


def to_cents(amount: Decimal) -> Decimal:
    """``amount`` rounded half-even to the cent (two decimal places, never ``-0.00``)."""
    rounded = amount.quantize(CENT, rounding=ROUNDING)
    return rounded if rounded != 0 else Decimal("0.00")


def to_micros(amount: Decimal, rounding: str = ROUNDING) -> int:
    """``amount`` in euros as an integer number of micro-euros."""
    return int((amount * MICROS_PER_EUR).to_integral_value(rounding=rounding))


def from_micros(micros: int) -> Decimal:
    """An integer number of micro-euros as euros, exactly (six decimal places)."""
    return (Decimal(micros) / MICROS_PER_EUR).quantize(Decimal("0.000001"))


def format_plain(value: Decimal) -> str:
    """``value`` as plain digits: no exponent, no ``+``, no separators, ``-`` only when negative.

    Trailing zeros after the decimal point are dropped (``1.50`` gives ``1.5``, ``10`` stays
    ``10``); use :func:`to_cents` first to show an amount with two decimals.
    """
    if not value.is_finite():
        raise InvalidAmount(f"not a finite number: {value}")
    if value == value.to_integral_value():
        text = format(value.quantize(Decimal(1)), "f")
    else:
        text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def allocate(
    total: Decimal, weights: Sequence[Decimal | int], quantum: Decimal = CENT
) -> list[Decimal]:
    """Split ``total`` into ``len(weights)`` parts proportional to ``weights``.

    Guarantees, for any ``total`` (positive, zero or negative) and non-negative weights:

    * every part is a multiple of ``quantum``;
    * the parts add up exactly to ``total`` rounded to ``quantum``;
    * each part is within one ``quantum`` of its exact proportional share;
    * when every weight is zero, the total is split equally (the same rule applies: equal
      weights), so nothing is lost.

    Largest-remainder method: every part first gets its share rounded towards zero; the
    quanta left over go one each to the parts with the largest discarded fractions, ties broken
    by position so the result is deterministic.
    """
    if not weights:
        raise ValueError("cannot allocate an amount over zero parts")
    fractions = [Fraction(w) for w in weights]
    if any(f < 0 for f in fractions):
        raise ValueError("allocation weights must be non-negative")
    if sum(fractions) == 0:
        fractions = [Fraction(1)] * len(fractions)
    weight_sum = sum(fractions)

    units = int((total / quantum).to_integral_value(rounding=ROUNDING))
    sign = -1 if units < 0 else 1
    magnitude = abs(units)

    exact = [magnitude * f / weight_sum for f in fractions]
    floors = [int(share) for share in exact]  # shares are >= 0, so int() is floor
    left_over = magnitude - sum(floors)
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for index in by_remainder[:left_over]:
        floors[index] += 1
    return [(sign * units_i) * quantum for units_i in floors]


def round_parts(amounts: Sequence[Decimal], quantum: Decimal = CENT) -> list[Decimal]:
    """``amounts`` rounded to ``quantum`` so that they add up to their exact sum rounded once.

    Largest-remainder method: every amount is first rounded down (towards minus infinity); the
    quanta still missing to reach the rounded sum go one each to the amounts with the largest
    discarded remainders, ties broken by position. For any signs, each part stays within one
    ``quantum`` of its exact value, and ``sum(parts) == round(sum(amounts))`` exactly.
    """
    if not amounts:
        return []
    target = int((sum(amounts, ZERO) / quantum).to_integral_value(rounding=ROUNDING))
    scaled = [Fraction(a) / Fraction(quantum) for a in amounts]
    floors = [math.floor(x) for x in scaled]
    left_over = target - sum(floors)
    by_remainder = sorted(range(len(scaled)), key=lambda i: (-(scaled[i] - floors[i]), i))
    for index in by_remainder[:left_over]:
        floors[index] += 1
    parts = [units * quantum for units in floors]
    return [part if part != 0 else ZERO.quantize(quantum) for part in parts]
