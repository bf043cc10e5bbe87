"""The ``cost:`` section of the configuration, and building a :class:`Costing` from it.

Shape (every amount is text, never a YAML float, for the reason given in :mod:`billing.money`)::

    cost:
      billing_currency: EUR
      fx_to_eur: {USD: "0.92"}
      organisation: {name: CHU Exemple, billing_account_id: chu-exemple}
      cost_centres: {cardiologie: "CC-4410"}   # printed on the statements
      true_up: share                      # or: unallocated
      pools:
        h100-a: {gpu_count: 8, hardware_eur: "350640", amortisation_years: "5",
                 watts_per_gpu: "1000", pue: "1.5", eur_per_kwh: "0.20",
                 hosting_eur_per_month: "1753.20", staff_eur_per_month: "4090.80"}
      deployments:                        # on-premise deployments that run on a pool
        mistral-small-onprem: {capacity: "2000", target_utilisation: "0.5",
                               weights: {input: "1", cached_input: "0.1", output: "4"}}
        radio-onprem: {capacity: "2000", target_utilisation: "0.5", dedicated_to: radiologie}
      litellm_models: {gpt-4o-mini: "azure/gpt-4o-mini"}
      prices:                             # PriceBook.from_config's shape, keyed by model or
        mistral-medium:                   # deployment name; a list gives price changes
          - {input: "0.4", output: "2", effective_from: "2026-01-01"}
          - {input: "0.5", cached_input: "0.1", output: "2.5", effective_from: "2026-03-15"}

The pool and GPU count of a deployment come from the catalog (``gpus: {pool, count}``); this
section only says how fast it is and who pays for it. :func:`build_costing` checks the two
against each other and reports every problem at once, so an operator fixes the file in one go.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from billing.db.schema import ledger
from billing.pricing.costing import Costing, DeploymentInfo, Organisation, PricingKind
from billing.pricing.gpu_cost import (
    Deployment,
    GpuPool,
    InvalidCostModel,
    OnPremCostModel,
    TokenWeights,
)
from billing.pricing.litellm_prices import ModelNotInPriceMap, seed_versions
from billing.pricing.price_book import (
    InvalidPriceConfig,
    PriceBook,
    PriceVersion,
    price_version_from_config,
)
from billing.pricing.true_up import ON_PREMISE, TrueUpMode

PARIS = ZoneInfo("Europe/Paris")
_UTC = ZoneInfo("UTC")
VLLM_KIND = "vllm"


class CostConfigError(ValueError):
    """The cost section contradicts itself or the catalog; ``problems`` lists every issue."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("cost configuration is invalid:\n  " + "\n  ".join(problems))


def _no_float(value: object) -> object:
    # A YAML 0.1 is a binary float whose exact value is not 0.1; money must be written as text.
    if isinstance(value, float):
        raise ValueError('write amounts as quoted text ("0.20"), not as a YAML number')
    return value


Amount = Annotated[Decimal, BeforeValidator(_no_float), Field(allow_inf_nan=False)]
PositiveAmount = Annotated[Decimal, BeforeValidator(_no_float), Field(gt=0, allow_inf_nan=False)]
NonNegativeAmount = Annotated[Decimal, BeforeValidator(_no_float), Field(ge=0, allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrganisationConfig(_Strict):
    """Who runs Hygie: the provider of on-premise models and the FOCUS billing account."""

    name: str = Field(default="Hygie", min_length=1)
    billing_account_id: str = Field(default="hygie", min_length=1)
    billing_account_name: str | None = None
    invoice_issuer_name: str | None = None


class PoolConfig(_Strict):
    """One GPU pool (the fields of :class:`billing.pricing.gpu_cost.GpuPool`, name from the key)."""

    gpu_count: int = Field(gt=0)
    hardware_eur: NonNegativeAmount
    amortisation_years: PositiveAmount
    watts_per_gpu: NonNegativeAmount
    pue: Annotated[Decimal, BeforeValidator(_no_float), Field(ge=1, allow_inf_nan=False)]
    eur_per_kwh: NonNegativeAmount
    hosting_eur_per_month: NonNegativeAmount = Decimal(0)
    staff_eur_per_month: NonNegativeAmount = Decimal(0)
    effective_from: date | None = Field(
        default=None, description="First day (local) of these figures; omit for the first."
    )


class FxRateConfig(_Strict):
    """One dated exchange rate: EUR per unit of the currency from ``effective_from`` on."""

    rate: PositiveAmount
    effective_from: date | None = None


class WeightsConfig(_Strict):
    """GPU work of one token of each class, relative to the others."""

    input: NonNegativeAmount = Decimal(1)
    cached_input: NonNegativeAmount = Decimal("0.1")
    output: NonNegativeAmount = Decimal(4)


class TransferConfig(_Strict):
    """How an on-premise deployment is charged: its throughput and who pays for it."""

    capacity: PositiveAmount = Field(description="Weighted tokens per GPU-second at full load.")
    target_utilisation: Annotated[
        Decimal, BeforeValidator(_no_float), Field(gt=0, le=1, allow_inf_nan=False)
    ]
    weights: WeightsConfig = WeightsConfig()
    dedicated_to: str | None = Field(
        default=None, description="Department charged the deployment's GPUs whole each month."
    )
    effective_from: date | None = Field(
        default=None, description="First day (local) of these figures; omit for the first."
    )


class PriceEntry(_Strict):
    """One price version, in :meth:`billing.pricing.price_book.PriceBook.from_config`'s shape."""

    input: Amount
    cached_input: Amount | None = None
    output: Amount
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    effective_from: datetime | date | str

    def as_mapping(self) -> dict[str, object]:
        """The entry as ``price_version_from_config`` reads it (absent keys left out)."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class CostConfig(_Strict):
    """The whole ``cost:`` section (every key optional: no section means nothing is priced)."""

    billing_currency: Literal["EUR"] = "EUR"
    fx_to_eur: dict[str, PositiveAmount | tuple[FxRateConfig, ...]] = Field(default_factory=dict)
    organisation: OrganisationConfig = OrganisationConfig()
    cost_centres: dict[str, str] = Field(
        default_factory=dict, description="Department name -> cost-centre code on statements."
    )
    true_up: TrueUpMode = TrueUpMode.SHARE
    pools: dict[str, PoolConfig | tuple[PoolConfig, ...]] = Field(default_factory=dict)
    deployments: dict[str, TransferConfig | tuple[TransferConfig, ...]] = Field(
        default_factory=dict
    )
    litellm_models: dict[str, str] = Field(
        default_factory=dict, description="Hygie model (or deployment) -> litellm price-map key."
    )
    litellm_effective_from: date = Field(
        default=date(2025, 1, 1),
        description="Start of the seeded litellm prices (a fixed date keeps version ids stable).",
    )
    prices: dict[str, PriceEntry | tuple[PriceEntry, ...]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _prices_parse(self) -> CostConfig:
        for key, entry in self.prices.items():
            for one in entry if isinstance(entry, tuple) else (entry,):
                try:
                    price_version_from_config(key, one.as_mapping(), _UTC)
                except InvalidPriceConfig as exc:
                    raise ValueError(str(exc)) from None
        return self


T = TypeVar("T")


def versions_of(entry: T | tuple[T, ...]) -> tuple[T, ...]:
    """A configuration entry that may be one version or a list of dated versions."""
    return entry if isinstance(entry, tuple) else (entry,)


def _local_start(day: date | None, tz: ZoneInfo) -> datetime | None:
    return None if day is None else datetime(day.year, day.month, day.day, tzinfo=tz)


@dataclass(frozen=True, slots=True)
class CatalogDeployment:
    """What costing needs to know of one catalog deployment (built by the gateway)."""

    model: str
    deployment: str
    kind: str
    """``vllm`` or ``litellm``."""
    hosting_class: str
    gpus_pool: str | None = None
    gpus_count: float | None = None
    provider: str | None = None
    """Who serves it (e.g. ``azure``); defaults to the organisation for on-premise models."""


CatalogRow = CatalogDeployment | tuple[str, str, str, str, str | None, float | None]


def _as_deployment(row: CatalogRow) -> CatalogDeployment:
    return row if isinstance(row, CatalogDeployment) else CatalogDeployment(*row)


def _price_versions(config: CostConfig, tz: ZoneInfo) -> list[PriceVersion]:
    versions: list[PriceVersion] = []
    for key, entry in config.prices.items():
        for one in entry if isinstance(entry, tuple) else (entry,):
            versions.append(price_version_from_config(key, one.as_mapping(), tz))
    return versions


def _pricing_of(
    row: CatalogDeployment, config: CostConfig, problems: list[str], tz: ZoneInfo
) -> tuple[PricingKind, list[Deployment]]:
    on_premise_gpus = row.hosting_class == ON_PREMISE and row.gpus_pool is not None
    entry = config.deployments.get(row.deployment)
    if row.kind != VLLM_KIND or not on_premise_gpus:
        return PricingKind.TOKEN_PRICE, []
    if entry is None:
        return PricingKind.UNPRICED, []
    assert row.gpus_pool is not None
    count = row.gpus_count if row.gpus_count is not None else 1
    if row.gpus_pool not in config.pools:
        problems.append(f"deployment {row.deployment!r} is on undeclared pool {row.gpus_pool!r}")
        return PricingKind.UNPRICED, []
    if count != int(count):
        problems.append(f"deployment {row.deployment!r} must occupy a whole number of GPUs")
        return PricingKind.UNPRICED, []
    versions = [
        Deployment(
            name=row.deployment,
            model=row.model,
            pool=row.gpus_pool,
            gpus=int(count),
            capacity=transfer.capacity,
            target_utilisation=transfer.target_utilisation,
            weights=TokenWeights(
                transfer.weights.input, transfer.weights.cached_input, transfer.weights.output
            ),
            dedicated_to=transfer.dedicated_to,
            effective_from=_local_start(transfer.effective_from, tz),
        )
        for transfer in versions_of(entry)
    ]
    kind = PricingKind.DEDICATED if versions[-1].dedicated_to else PricingKind.TRANSFER_PRICE
    return kind, versions


def _fx(config: CostConfig, tz: ZoneInfo) -> tuple[dict[str, Decimal], dict[str, Any]]:
    """The latest rate of each currency, and the dated rates of those given as a list."""
    latest: dict[str, Decimal] = {}
    dated: dict[str, tuple[tuple[datetime, Decimal], ...]] = {}
    for currency, entry in config.fx_to_eur.items():
        if isinstance(entry, Decimal):
            latest[currency] = entry
            continue
        rates = tuple(
            sorted(
                (
                    _local_start(one.effective_from, tz) or datetime.min.replace(tzinfo=_UTC),
                    one.rate,
                )
                for one in entry
            )
        )
        latest[currency] = rates[-1][1]
        dated[currency] = rates
    return latest, dated


def build_costing(
    cost_config: CostConfig,
    catalog_view: Iterable[CatalogRow],
    *,
    tz: ZoneInfo = PARIS,
    price_map: Mapping[str, Any] | None = None,
) -> Costing:
    """The :class:`Costing` of a configuration; raises :class:`CostConfigError` on any problem.

    ``catalog_view`` lists every catalog deployment as :class:`CatalogDeployment` (or the tuple
    ``(model, deployment, kind, hosting_class, gpus_pool, gpus_count)``). Pricing rule, per
    deployment: a ``vllm`` deployment that is ``on_premise`` and occupies GPUs gets a transfer
    price (nothing per request when dedicated to a department); every other deployment is
    priced from the price book, by deployment name first, then by model name. ``price_map``
    replaces litellm's bundled map (tests); it is read only when ``litellm_models`` is set.
    """
    rows = [_as_deployment(row) for row in catalog_view]
    problems: list[str] = []
    known = {row.deployment: row for row in rows}
    for name in sorted(set(cost_config.deployments) - set(known)):
        problems.append(f"cost.deployments.{name}: no such deployment in the catalog")
    for name in sorted(set(cost_config.deployments) & set(known)):
        row = known[name]
        if row.kind != VLLM_KIND or row.hosting_class != ON_PREMISE or row.gpus_pool is None:
            problems.append(
                f"cost.deployments.{name}: only on-premise vllm deployments with `gpus` "
                "get a transfer price"
            )

    infos: list[DeploymentInfo] = []
    onprem_deployments: list[Deployment] = []
    organisation = Organisation(
        name=cost_config.organisation.name,
        billing_account_id=cost_config.organisation.billing_account_id,
        billing_account_name=cost_config.organisation.billing_account_name
        or cost_config.organisation.name,
        invoice_issuer_name=cost_config.organisation.invoice_issuer_name
        or cost_config.organisation.name,
    )
    for row in rows:
        kind, versions = _pricing_of(row, cost_config, problems, tz)
        onprem_deployments.extend(versions)
        default_provider = organisation.name if row.hosting_class == ON_PREMISE else row.deployment
        infos.append(
            DeploymentInfo(
                model=row.model,
                deployment=row.deployment,
                hosting_class=row.hosting_class,
                provider=row.provider or default_provider,
                pricing=kind,
            )
        )

    pools: list[GpuPool] = []
    for name, entry in cost_config.pools.items():
        for pool in versions_of(entry):
            figures = pool.model_dump(exclude={"effective_from"})
            start = _local_start(pool.effective_from, tz)
            pools.append(GpuPool(name=name, effective_from=start, **figures))
    onprem = OnPremCostModel({}, {})
    try:
        onprem = OnPremCostModel.of(pools, onprem_deployments)
    except InvalidCostModel as exc:
        problems.append(str(exc))

    seed: list[PriceVersion] = []
    if cost_config.litellm_models:
        start = datetime(
            cost_config.litellm_effective_from.year,
            cost_config.litellm_effective_from.month,
            cost_config.litellm_effective_from.day,
            tzinfo=tz,
        )
        try:
            seed = seed_versions(
                cost_config.litellm_models, effective_from=start, price_map=price_map
            )
        except ModelNotInPriceMap as exc:
            problems.append(str(exc))
    latest_fx, dated_fx = _fx(cost_config, tz)
    book = PriceBook(tuple(seed), latest_fx, dated_fx).with_versions(
        _price_versions(cost_config, tz)
    )
    problems.extend(_book_problems(book))

    costing = Costing(
        book=book,
        onprem=onprem,
        deployments=infos,
        organisation=organisation,
        true_up_mode=cost_config.true_up,
        tz=tz,
        cost_centres=cost_config.cost_centres,
    )
    problems.extend(_version_length_problems(costing))
    if problems:
        raise CostConfigError(problems)
    return costing


def _book_problems(book: PriceBook) -> list[str]:
    problems: list[str] = []
    for currency in sorted({v.currency for v in book.versions}):
        try:
            book.fx_rate(currency)
        except InvalidPriceConfig as exc:
            problems.append(f"{exc} (add it under cost.fx_to_eur)")
    return problems


def _version_length_problems(costing: Costing) -> list[str]:
    # The ledger's price_version column is bounded; a longer id would be refused by PostgreSQL
    # at insert time, far from the configuration that caused it.
    limit = getattr(ledger.c.price_version.type, "length", None)
    assert isinstance(limit, int)
    return [
        f"price version id {version!r} is longer than {limit} characters; shorten the name"
        for version in costing.version_ids()
        if len(version) > limit
    ]
