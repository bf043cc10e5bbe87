"""Price book: versions with effective dates, configuration overrides, EUR charges."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing.pricing.price_book import (
    InvalidPriceConfig,
    PriceBook,
    PriceClass,
    PriceNotFound,
    PriceVersion,
    TokenUsage,
    price_version_from_config,
)

PARIS = ZoneInfo("Europe/Paris")


def make_version(
    *,
    model: str = "gpt-4o-mini",
    input: str = "0.15",
    cached_input: str = "0.075",
    output: str = "0.60",
    currency: str = "USD",
    effective_from: datetime = datetime(2026, 1, 1, tzinfo=UTC),
    source: str = "litellm 1.110.2",
) -> PriceVersion:
    return PriceVersion(
        model=model,
        input_per_million=Decimal(input),
        cached_input_per_million=Decimal(cached_input),
        output_per_million=Decimal(output),
        currency=currency,
        effective_from=effective_from,
        source=source,
    )


def test_one_request_priced_by_hand() -> None:
    book = PriceBook.from_config(
        {
            "mistral-medium": {
                "input": "0.14",
                "cached_input": "0.07",
                "output": "0.55",
                "currency": "EUR",
                "effective_from": "2026-01-01",
            }
        },
        tz=PARIS,
    )
    # 12,000 prompt tokens of which 2,000 were cached, 1,500 completion tokens:
    #   input   10,000 x 0.14 / 1e6 = 0.001400
    #   cached   2,000 x 0.07 / 1e6 = 0.000140
    #   output   1,500 x 0.55 / 1e6 = 0.000825
    #   total                        = 0.002365 EUR = 2,365 micro-euros
    usage = TokenUsage.from_openai(
        prompt_tokens=12_000, completion_tokens=1_500, cached_tokens=2_000
    )
    charge = book.charge("mistral-medium", usage, datetime(2026, 2, 3, 10, tzinfo=UTC))
    assert charge.amounts_eur[PriceClass.INPUT] == Decimal("0.0014")
    assert charge.amounts_eur[PriceClass.CACHED_INPUT] == Decimal("0.00014")
    assert charge.amounts_eur[PriceClass.OUTPUT] == Decimal("0.000825")
    assert charge.amount_eur == Decimal("0.002365")
    assert charge.amount_micros == 2365
    assert charge.fx_rate == Decimal(1)
    assert charge.currency == "EUR"
    assert charge.version_id == book.price_at("mistral-medium", charge.at).version_id


def test_usd_prices_are_converted_at_the_recorded_rate() -> None:
    book = PriceBook((make_version(),), {"USD": Decimal("0.92")})
    charge = book.charge(
        "gpt-4o-mini",
        TokenUsage(input=1_000_000, cached_input=0, output=1_000_000),
        datetime(2026, 2, 1, tzinfo=UTC),
    )
    # (0.15 + 0.60) USD x 0.92 EUR/USD = 0.69 EUR
    assert charge.amount_eur == Decimal("0.69")
    assert charge.fx_rate == Decimal("0.92")
    assert charge.currency == "USD"
    assert charge.unit_prices_eur[PriceClass.INPUT] == Decimal("0.138")


def test_missing_exchange_rate_is_a_configuration_error() -> None:
    book = PriceBook((make_version(),))
    with pytest.raises(InvalidPriceConfig):
        book.charge("gpt-4o-mini", TokenUsage(1), datetime(2026, 2, 1, tzinfo=UTC))


def test_price_change_in_the_middle_of_a_month_keeps_each_charge_on_its_version() -> None:
    seeded = make_version()
    book = PriceBook.from_config(
        {
            "gpt-4o-mini": {
                "input": "0.20",
                "cached_input": "0.10",
                "output": "0.80",
                "currency": "EUR",
                "effective_from": "2026-03-15",  # midnight in Paris = 2026-03-14T23:00Z
            }
        },
        fx_to_eur={"USD": "0.92"},
        tz=PARIS,
        seed=[seeded],
    )
    usage = TokenUsage(input=1_000_000)
    before = book.charge("gpt-4o-mini", usage, datetime(2026, 3, 14, 22, 59, 59, tzinfo=UTC))
    after = book.charge("gpt-4o-mini", usage, datetime(2026, 3, 14, 23, 0, tzinfo=UTC))
    assert before.version_id == seeded.version_id
    assert before.amount_eur == Decimal("0.138")  # 0.15 USD x 0.92
    assert after.version_id != seeded.version_id
    assert after.amount_eur == Decimal("0.20")
    assert after.fx_rate == Decimal(1)
    # The older version is still there: recomputing a past charge gives the same result.
    assert [v.version_id for v in book.history("gpt-4o-mini")] == [
        before.version_id,
        after.version_id,
    ]
    again = book.charge("gpt-4o-mini", usage, before.at)
    assert again.amount_eur == before.amount_eur


def test_config_override_on_the_same_start_replaces_the_seed() -> None:
    seeded = make_version(effective_from=datetime(2025, 12, 31, 23, tzinfo=UTC))
    book = PriceBook.from_config(
        {"gpt-4o-mini": {"input": "1", "output": "2", "effective_from": "2026-01-01"}},
        tz=PARIS,
        seed=[seeded],
    )
    (only,) = book.history("gpt-4o-mini")
    assert only.currency == "EUR"
    assert only.cached_input_per_million == Decimal(1)  # defaults to the input price
    assert only.source == "config"


def test_version_id_is_stable_and_content_derived() -> None:
    a = make_version(output="0.60")
    b = make_version(output="0.6")
    c = make_version(output="0.61")
    assert a.version_id == b.version_id
    assert a.version_id != c.version_id
    assert a.version_id.startswith("gpt-4o-mini@2026-01-01.")
    assert a.version_id == make_version(output="0.600").version_id


def test_no_price_before_the_first_version_or_for_unknown_models() -> None:
    book = PriceBook((make_version(),), {"USD": Decimal("0.92")})
    with pytest.raises(PriceNotFound):
        book.price_at("gpt-4o-mini", datetime(2025, 12, 31, tzinfo=UTC))
    with pytest.raises(PriceNotFound):
        book.price_at("unknown", datetime(2026, 2, 1, tzinfo=UTC))
    with pytest.raises(ValueError):
        book.price_at("gpt-4o-mini", datetime(2026, 2, 1))  # noqa: DTZ001 (naive on purpose)


@pytest.mark.parametrize(
    "entry",
    [
        {"input": 0.14, "output": "0.55", "effective_from": "2026-01-01"},  # float
        {"input": "0.14", "output": "0.55"},  # no start date
        {"input": "0.14", "output": "x", "effective_from": "2026-01-01"},
        {"input": "0.14", "output": "0.55", "effective_from": "soon"},
        {"input": "0.14", "output": "0.55", "effective_from": "2026-01-01T00:00:00"},  # naive
        {"input": "-1", "output": "0.55", "effective_from": "2026-01-01"},
        {"input": "1", "output": "1", "currency": "euro", "effective_from": "2026-01-01"},
        {"input": "1", "output": "1", "effective_from": "2026-01-01", "typo": "1"},
    ],
)
def test_malformed_price_entries_are_rejected(entry: dict[str, object]) -> None:
    with pytest.raises(InvalidPriceConfig):
        price_version_from_config("m", entry, PARIS)


def test_duplicate_versions_are_rejected() -> None:
    with pytest.raises(InvalidPriceConfig):
        PriceBook((make_version(), make_version(output="9")))


def test_effective_instant_with_offset_is_kept() -> None:
    version = price_version_from_config(
        "m",
        {"input": "1", "output": "1", "effective_from": "2026-03-29T03:00:00+02:00"},
        PARIS,
    )
    assert version.effective_from == datetime(2026, 3, 29, 1, tzinfo=UTC)


def test_token_usage_validation_and_sum() -> None:
    with pytest.raises(ValueError):
        TokenUsage(input=-1)
    with pytest.raises(ValueError):
        TokenUsage.from_openai(prompt_tokens=1, completion_tokens=0, cached_tokens=2)
    assert TokenUsage(1, 2, 3) + TokenUsage(10, 20, 30) == TokenUsage(11, 22, 33)
