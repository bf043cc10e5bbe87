"""Seeding prices from the price map bundled with the installed litellm (read, not imported)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from billing.pricing.litellm_prices import (
    ModelNotInPriceMap,
    load_price_map,
    price_map_path,
    seed_versions,
)
from billing.pricing.price_book import PriceBook, TokenUsage

START = datetime(2026, 1, 1, tzinfo=UTC)


def test_price_map_is_found_in_the_installed_package_without_importing_it() -> None:
    was_imported = "litellm" in sys.modules
    path = price_map_path()
    assert path.name == "model_prices_and_context_window_backup.json"
    assert path.parent.name == "litellm"
    if not was_imported:
        assert "litellm" not in sys.modules


def test_seeded_prices_match_the_installed_map_exactly() -> None:
    (version,) = seed_versions(["gpt-4o-mini"], effective_from=START)
    raw = json.loads(price_map_path().read_text())["gpt-4o-mini"]
    # Per-token USD floats in the file, per-million Decimals here, without float error.
    assert version.input_per_million == Decimal(str(raw["input_cost_per_token"])) * 1_000_000
    assert version.output_per_million == Decimal(str(raw["output_cost_per_token"])) * 1_000_000
    assert version.cached_input_per_million == (
        Decimal(str(raw["cache_read_input_token_cost"])) * 1_000_000
    )
    assert version.currency == "USD"
    assert version.source.startswith("litellm ")
    assert "E" not in str(version.input_per_million)


def test_seeding_from_a_given_map_with_aliases_and_fallbacks(tmp_path: Path) -> None:
    price_file = tmp_path / "prices.json"
    price_file.write_text(
        json.dumps(
            {
                "vendor/big-model": {
                    "input_cost_per_token": 2.5e-06,
                    "output_cost_per_token": 1e-05,
                },
                "vendor/image-model": {"output_cost_per_image": 0.04},
            }
        )
    )
    table = load_price_map(price_file)
    (version,) = seed_versions({"big": "vendor/big-model"}, effective_from=START, price_map=table)
    assert version.model == "big"
    assert version.input_per_million == Decimal("2.5")
    assert version.output_per_million == Decimal("10")
    assert str(version.output_per_million) == "10"
    assert version.cached_input_per_million == Decimal("2.5")  # no cache discount: input price
    with pytest.raises(ModelNotInPriceMap) as missing:
        seed_versions(
            ["vendor/image-model", "nope", "vendor/big-model"],
            effective_from=START,
            price_map=table,
        )
    assert missing.value.models == ["vendor/image-model", "nope"]


def test_seeded_book_charges_in_eur() -> None:
    book = PriceBook(
        tuple(seed_versions(["gpt-4o-mini"], effective_from=START)),
        {"USD": Decimal("0.90")},
    )
    charge = book.charge(
        "gpt-4o-mini", TokenUsage(input=2_000_000), datetime(2026, 1, 2, tzinfo=UTC)
    )
    version = book.price_at("gpt-4o-mini", charge.at)
    assert charge.amount_eur == version.input_per_million * 2 * Decimal("0.90")
