"""What a request costs or may cost: integer micro-euros and tokens, never floats."""

from __future__ import annotations

from dataclasses import dataclass

# Counters are compared inside Redis Lua scripts, where numbers are IEEE doubles; threshold checks
# multiply by 100. Keeping every figure below 10**13 (ten million euros, ten trillion tokens) keeps
# all of that arithmetic exact (10**15 < 2**53).
MAX_UNITS = 10**13


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
