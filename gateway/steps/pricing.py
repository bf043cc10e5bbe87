"""Building the request costing from the configuration.

Two places declare prices: the simple ``prices:`` list (EUR or USD per million tokens, valid
from the beginning) and the full ``cost:`` section (versioned prices, FX rates, GPU pools and
transfer prices, litellm's price map). Both feed one :class:`billing.pricing.costing.Costing`,
the only object that prices requests (for quota reservations and for the ledger).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from billing.pricing.cost_config import (
    CatalogDeployment,
    CostConfig,
    CostConfigError,
    PriceEntry,
    build_costing,
)
from billing.pricing.costing import Costing
from gateway.catalog import Catalog, ConfigError, DeploymentKind

_SIMPLE_PRICES_FROM = "2000-01-01"


def catalog_view(catalog: Catalog) -> list[CatalogDeployment]:
    """The catalog as costing sees it (``build_costing``'s ``catalog_view``).

    The provider of an external deployment is the one its backend names (spans, metrics and
    reports agree: ``azure.ai.openai`` for ``azure/gpt-4o-mini``); deployments the hospital runs
    (vLLM) are provided by the organisation.
    """
    view: list[CatalogDeployment] = []
    for model in catalog.models:
        for d in model.deployments:
            provider = d.provider if d.kind is DeploymentKind.LITELLM else None
            view.append(
                CatalogDeployment(
                    model=model.name,
                    deployment=d.name,
                    kind=d.kind.value,
                    hosting_class=d.hosting.hosting_class.value,
                    gpus_pool=d.gpus.pool if d.gpus else None,
                    gpus_count=d.gpus.count if d.gpus else None,
                    provider=provider,
                )
            )
    return view


def _simple_entries(catalog: Catalog) -> dict[str, PriceEntry]:
    return {
        model: PriceEntry(
            input=price.input,
            cached_input=price.cached_input,
            output=price.output,
            currency=price.currency,
            effective_from=_SIMPLE_PRICES_FROM,
        )
        for model, price in catalog.prices.items()
    }


def build_request_costing(catalog: Catalog, timezone: ZoneInfo) -> Costing:
    """The costing of this configuration; raises :class:`ConfigError` naming every problem."""
    config = catalog.cost or CostConfig()
    simple = {k: v for k, v in _simple_entries(catalog).items() if k not in config.prices}
    if simple:
        config = config.model_copy(update={"prices": {**simple, **config.prices}})
    try:
        return build_costing(config, catalog_view(catalog), tz=timezone)
    except CostConfigError as exc:
        raise ConfigError(str(exc)) from None
