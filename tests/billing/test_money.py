"""Money: parsing, cent rounding, micro-euros and largest-remainder allocation."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.money import (
    CENT,
    InvalidAmount,
    allocate,
    format_plain,
    from_micros,
    parse_amount,
    round_parts,
    to_cents,
    to_micros,
)


def test_parse_amount_accepts_text_int_and_decimal() -> None:
    assert parse_amount("0.14") == Decimal("0.14")
    assert parse_amount(" 12 ") == Decimal(12)
    assert parse_amount(3) == Decimal(3)
    assert parse_amount(Decimal("1.5")) == Decimal("1.5")


@pytest.mark.parametrize("bad", [0.1, True, "abc", "NaN", "Infinity", ""])
def test_parse_amount_refuses_floats_and_non_finite(bad: object) -> None:
    with pytest.raises(InvalidAmount):
        parse_amount(bad)  # type: ignore[arg-type]


def test_cent_rounding_is_half_even() -> None:
    # Ties go to the even cent, in both directions; non-ties round normally.
    assert to_cents(Decimal("0.125")) == Decimal("0.12")
    assert to_cents(Decimal("0.135")) == Decimal("0.14")
    assert to_cents(Decimal("-0.125")) == Decimal("-0.12")
    assert to_cents(Decimal("0.1251")) == Decimal("0.13")
    assert to_cents(Decimal("2.004999")) == Decimal("2.00")
    assert str(to_cents(Decimal("-0.001"))) == "0.00"  # never "-0.00"


def test_micro_euro_conversions() -> None:
    assert to_micros(Decimal("0.002365")) == 2365
    assert to_micros(Decimal("0.0000005")) == 0  # half-even: 0.5 µEUR rounds to 0
    assert to_micros(Decimal("0.0000015")) == 2
    assert to_micros(Decimal("0.0000001"), rounding=ROUND_CEILING) == 1
    assert from_micros(2365) == Decimal("0.002365")
    assert from_micros(-1) == Decimal("-0.000001")
    assert from_micros(to_micros(Decimal("12.345678"))) == Decimal("12.345678")


def test_format_plain_never_uses_exponents() -> None:
    assert format_plain(Decimal("1E-7")) == "0.0000001"
    assert format_plain(Decimal("1E+3")) == "1000"
    assert format_plain(Decimal("1.500")) == "1.5"
    assert format_plain(Decimal("-0")) == "0"
    assert format_plain(Decimal("-2.50")) == "-2.5"


def test_allocate_hand_examples() -> None:
    # 0.10 over three equal parts: 3.33 cents each, the left-over cent goes to the first.
    assert allocate(Decimal("0.10"), [1, 1, 1]) == [
        Decimal("0.04"),
        Decimal("0.03"),
        Decimal("0.03"),
    ]
    # Negative totals mirror positive ones.
    assert allocate(Decimal("-0.10"), [1, 1, 1]) == [
        Decimal("-0.04"),
        Decimal("-0.03"),
        Decimal("-0.03"),
    ]
    # 100.00 split 1:2 -> 33.333 / 66.667: the larger remainder (.667) wins the cent.
    assert allocate(Decimal("100"), [Decimal(1), Decimal(2)]) == [
        Decimal("33.33"),
        Decimal("66.67"),
    ]
    # All weights zero: split equally.
    assert allocate(Decimal("1.00"), [0, 0]) == [Decimal("0.50"), Decimal("0.50")]
    # A zero weight gets nothing when others have weight.
    assert allocate(Decimal("5.00"), [0, 3]) == [Decimal("0.00"), Decimal("5.00")]


def test_allocate_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        allocate(Decimal(1), [])
    with pytest.raises(ValueError):
        allocate(Decimal(1), [1, -1])


weights_strategy = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=10**9),
        st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(
    total=st.decimals(
        min_value=-(10**7), max_value=10**7, places=4, allow_nan=False, allow_infinity=False
    ),
    weights=weights_strategy,
)
def test_allocation_always_sums_to_the_rounded_total(
    total: Decimal, weights: list[int | Decimal]
) -> None:
    parts = allocate(total, weights)
    assert len(parts) == len(weights)
    assert sum(parts, Decimal(0)) == to_cents(total)
    assert all(p == p.quantize(CENT) for p in parts)
    weight_sum = sum(Fraction(w) for w in weights)
    fractions = [Fraction(w) for w in weights] if weight_sum else [Fraction(1)] * len(weights)
    weight_sum = sum(fractions)
    for part, weight in zip(parts, fractions, strict=True):
        exact = Fraction(to_cents(total)) * weight / weight_sum
        assert abs(Fraction(part) - exact) < Fraction(CENT)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.decimals(min_value=-1000, max_value=1000, places=6, allow_nan=False),
        min_size=1,
        max_size=12,
    )
)
def test_round_parts_add_up_to_the_exact_sum_rounded_once(amounts: list[Decimal]) -> None:
    parts = round_parts(amounts)
    assert sum(parts, Decimal(0)) == to_cents(sum(amounts, Decimal(0)))
    for part, exact in zip(parts, amounts, strict=True):
        assert abs(part - exact) < CENT
        assert part == part.quantize(CENT)


def test_round_parts_spreads_the_missing_cents_by_largest_remainder() -> None:
    # Rounded one by one these give 0.40 + 0.40 + 0.40 = 1.20 for an exact 1.199901.
    amounts = [Decimal("0.399967"), Decimal("0.399967"), Decimal("0.399967")]
    assert round_parts(amounts) == [Decimal("0.40"), Decimal("0.40"), Decimal("0.40")]
    amounts = [Decimal("0.004"), Decimal("0.004"), Decimal("0.004")]
    assert round_parts(amounts) == [Decimal("0.01"), Decimal("0.00"), Decimal("0.00")]
