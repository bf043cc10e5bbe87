"""Charge lines: validation, units, and aggregation of price-book charges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing.periods import month_period
from billing.pricing.price_book import PriceBook, PriceClass, TokenUsage
from billing.reports.rows import (
    ChargeLine,
    TokenClass,
    token_line,
    token_lines_from_charges,
    true_up_line,
)

PARIS = ZoneInfo("Europe/Paris")
MARCH = month_period(2026, 3, PARIS)


def make_line(**overrides: object) -> ChargeLine:
    fields: dict[str, object] = {
        "period_start": MARCH.start,
        "period_end": MARCH.end,
        "department_id": "cardiologie",
        "department_name": "Cardiologie",
        "model": "mistral-medium",
        "provider": "Mistral AI",
        "hosting_class": "eu_cloud",
        "token_class": TokenClass.INPUT,
        "quantity": Decimal("0.01"),
        "unit": "1000000 Tokens",
        "unit_price": Decimal("0.14"),
        "amount": Decimal("0.0014"),
        "price_version": "v1",
    }
    fields.update(overrides)
    return ChargeLine(**fields)  # type: ignore[arg-type]


def test_token_line_units() -> None:
    line = token_line(
        MARCH,
        department_id="cardiologie",
        department_name="Cardiologie",
        model="mistral-medium",
        provider="Mistral AI",
        hosting_class="eu_cloud",
        price_class=PriceClass.OUTPUT,
        tokens=1_500,
        unit_price_per_million=Decimal("0.55"),
        price_version="v1",
    )
    assert line.token_class is TokenClass.OUTPUT
    assert line.quantity == Decimal("0.0015")
    assert line.unit == "1000000 Tokens"
    assert line.amount == Decimal("0.000825")
    assert line.consumed_quantity == 1500
    assert line.consumed_unit == "Tokens"


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"amount": 0.1}, TypeError),
        ({"quantity": None}, ValueError),
        ({"unit_price": Decimal("-1")}, ValueError),
        ({"period_start": datetime(2026, 3, 1)}, ValueError),  # noqa: DTZ001 (naive on purpose)
        ({"period_end": MARCH.start}, ValueError),
        ({"department_id": None}, ValueError),
    ],
)
def test_invalid_lines_are_rejected(overrides: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        make_line(**overrides)


def test_periods_are_stored_in_utc_and_true_up_may_have_no_department() -> None:
    local_start = MARCH.start.astimezone(PARIS)
    line = make_line(period_start=local_start)
    assert line.period_start.tzinfo is UTC
    unallocated = true_up_line(
        MARCH,
        department_id=None,
        department_name=None,
        provider="CHU",
        hosting_class="on_premise",
        amount=Decimal("-12.34"),
        price_version="pool:x",
    )
    assert unallocated.quantity is None
    assert unallocated.description is not None
    assert unallocated.description.startswith("Unallocated capacity")


def test_charges_are_grouped_by_price_version() -> None:
    book = PriceBook.from_config(
        {
            "m": {"input": "1", "output": "2", "effective_from": "2026-01-01"},
        },
        tz=PARIS,
    ).with_versions(
        PriceBook.from_config(
            {"m": {"input": "3", "output": "4", "effective_from": "2026-03-15"}}, tz=PARIS
        ).versions
    )
    start = datetime(2026, 3, 10, tzinfo=UTC)
    charges = [
        book.charge("m", TokenUsage(input=100, output=10), start),
        book.charge("m", TokenUsage(input=200), start + timedelta(days=1)),
        book.charge("m", TokenUsage(input=1_000), start + timedelta(days=10)),
    ]
    lines = token_lines_from_charges(
        MARCH,
        charges,
        department_id="d",
        department_name="D",
        provider="P",
        hosting_class="eu_cloud",
    )
    summary = [(ln.token_class, ln.consumed_quantity, ln.unit_price, ln.amount) for ln in lines]
    old, new = (v.version_id for v in book.history("m"))
    assert [ln.price_version for ln in lines] == [old, old, new]
    assert summary == [
        (TokenClass.INPUT, Decimal(300), Decimal(1), Decimal("0.0003")),
        (TokenClass.OUTPUT, Decimal(10), Decimal(2), Decimal("0.00002")),
        (TokenClass.INPUT, Decimal(1000), Decimal(3), Decimal("0.003")),
    ]
    with pytest.raises(ValueError):
        token_lines_from_charges(
            month_period(2026, 4, PARIS),
            charges,
            department_id="d",
            department_name="D",
            provider="P",
            hosting_class="eu_cloud",
        )
