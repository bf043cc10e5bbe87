"""Seed prices from the model price map shipped inside the installed ``litellm`` package.

litellm carries a JSON map of provider prices (USD per token) as package data. Hygie reads that
file from disk and never imports ``litellm`` for it: the import is slow and may try to fetch a
newer map from the network, and a hospital gateway must not price requests from a file that
changed at run time. The map is therefore exactly the one of the installed (locked) version,
and the seeded versions say so in their ``source``.

The map's prices are JSON numbers; they are parsed straight to ``Decimal`` from their text, so
``2.5e-06`` becomes exactly ``Decimal("0.0000025")`` and never passes through a binary float.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from billing.pricing.price_book import TOKENS_PER_PRICE_UNIT, PriceVersion

PRICE_MAP_FILE = "model_prices_and_context_window_backup.json"
LITELLM_CURRENCY = "USD"


class PriceMapNotFound(FileNotFoundError):
    """The installed litellm package, or its bundled price map, cannot be found."""


class ModelNotInPriceMap(LookupError):
    """Configured models have no (token) price in litellm's map; price them in the configuration."""

    def __init__(self, models: list[str]) -> None:
        self.models = models
        super().__init__(f"no litellm price for {', '.join(models)}; add them under `prices:`")


def price_map_path() -> Path:
    """Where the installed litellm keeps its price map (located without importing litellm)."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        raise PriceMapNotFound("the litellm package is not installed")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / PRICE_MAP_FILE
        if candidate.is_file():
            return candidate
    raise PriceMapNotFound(f"{PRICE_MAP_FILE} not found in the installed litellm package")


def litellm_version() -> str:
    """Version of the installed litellm distribution (from its metadata, without importing it)."""
    try:
        return importlib.metadata.version("litellm")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def load_price_map(path: Path | None = None) -> dict[str, Any]:
    """The price map as a dict, with every JSON number that has a fraction parsed to ``Decimal``."""
    source = path if path is not None else price_map_path()
    with source.open("rb") as handle:
        loaded = json.load(handle, parse_float=Decimal)
    if not isinstance(loaded, dict):
        raise PriceMapNotFound(f"{source} is not a JSON object")
    return loaded


def _tidy(amount: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation (``10``, not ``1E+1``)."""
    return (
        amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount.normalize()
    )


def _per_million(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal | int):
        per_token = Decimal(value)
    elif isinstance(value, float):
        per_token = Decimal(str(value))  # a float from another loader: its shortest repr
    else:
        return None
    return per_token * TOKENS_PER_PRICE_UNIT


def seed_versions(
    models: Iterable[str] | Mapping[str, str],
    *,
    effective_from: datetime,
    price_map: Mapping[str, Any] | None = None,
) -> list[PriceVersion]:
    """One USD :class:`PriceVersion` per configured model, from litellm's map.

    ``models`` lists Hygie model names that are also litellm keys, or maps a Hygie model name to
    its litellm key (``{"mistral-large": "mistral/mistral-large-latest"}``). The cached-input
    price is litellm's ``cache_read_input_token_cost``, or the input price when the provider
    has no cache discount. Raises :class:`ModelNotInPriceMap` listing every model without an
    input and output token price, so a configuration error is reported whole.
    """
    keys = dict(models) if isinstance(models, Mapping) else {m: m for m in models}
    table = price_map if price_map is not None else load_price_map()
    source = f"litellm {litellm_version()}"
    versions: list[PriceVersion] = []
    missing: list[str] = []
    for model, key in keys.items():
        entry = table.get(key)
        if not isinstance(entry, Mapping):
            missing.append(model)
            continue
        input_price = _per_million(entry.get("input_cost_per_token"))
        output_price = _per_million(entry.get("output_cost_per_token"))
        if input_price is None or output_price is None:
            missing.append(model)
            continue
        cached = _per_million(entry.get("cache_read_input_token_cost"))
        versions.append(
            PriceVersion(
                model=model,
                input_per_million=_tidy(input_price),
                cached_input_per_million=_tidy(cached if cached is not None else input_price),
                output_per_million=_tidy(output_price),
                currency=LITELLM_CURRENCY,
                effective_from=effective_from,
                source=source,
            )
        )
    if missing:
        raise ModelNotInPriceMap(missing)
    return versions
