"""What a request costs or may cost: integer micro-euros and tokens, never floats."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from billing.money import MICROS_PER_EUR, InvalidAmount, parse_amount

# Counters are compared inside Redis Lua scripts, where numbers are IEEE doubles; threshold checks
# multiply by 100. Keeping every figure below 10**13 (ten million euros, ten trillion tokens) keeps
# all of that arithmetic exact (10**15 < 2**53).
MAX_UNITS = 10**13

MAX_EUR = Decimal(MAX_UNITS) / MICROS_PER_EUR
"""The largest amount in euros a budget may be (ten million), so that it fits the counters."""
MAX_EUR_DECIMALS = 6
"""Budgets are counted in micro-euros: a finer amount would be silently rounded."""
_MAX_AMOUNT_TEXT = 40


def parse_budget_eur(text: str) -> Decimal:
    """A budget in euros from text (a query parameter, a CLI option).

    Refuses (:class:`InvalidAmount`) anything but a number from 0 to :data:`MAX_EUR` with at
    most six decimals. The bounds are checked on the parsed ``Decimal``'s sign, exponent and
    digits before any arithmetic: ``1e999999999`` is a few bytes of text, but a number that
    would take gigabytes of memory once multiplied or rounded.
    """
    if len(text) > _MAX_AMOUNT_TEXT:
        raise InvalidAmount(f"an amount has at most {_MAX_AMOUNT_TEXT} characters")
    amount = parse_amount(text)
    exponent = amount.as_tuple().exponent
    if not 0 <= amount <= MAX_EUR:
        raise InvalidAmount(f"an amount is between 0 and {MAX_EUR} euros")
    if not isinstance(exponent, int) or exponent < -MAX_EUR_DECIMALS:
        raise InvalidAmount(f"an amount has at most {MAX_EUR_DECIMALS} decimals")
    return amount


@dataclass(frozen=True, slots=True)
class Amount:
    """A non-negative cost: ``micro_eur`` (1 EUR = 1,000,000) and ``tokens``."""

    micro_eur: int
    tokens: int

    def __post_init__(self) -> None:
        for name, value in (("micro_eur", self.micro_eur), ("tokens", self.tokens)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int")
            if not 0 <= value <= MAX_UNITS:
                raise ValueError(f"{name} must be between 0 and {MAX_UNITS}")

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.micro_eur + other.micro_eur, self.tokens + other.tokens)


ZERO = Amount(0, 0)
