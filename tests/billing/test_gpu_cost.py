"""On-premise cost model: cost per GPU-hour and per-request transfer prices, by hand."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing.periods import month_period
from billing.pricing.gpu_cost import (
    Deployment,
    GpuPool,
    InvalidCostModel,
    OnPremCostModel,
    TokenWeights,
    TransferRate,
    UnknownDeployment,
    period_hours,
)
from billing.pricing.price_book import PriceClass, TokenUsage

PARIS = ZoneInfo("Europe/Paris")


def make_pool(
    *,
    name: str = "h100-a",
    gpu_count: int = 8,
    hardware_eur: str = "350640",
    amortisation_years: str = "5",
    watts_per_gpu: str = "1000",
    pue: str = "1.5",
    eur_per_kwh: str = "0.20",
    hosting_eur_per_month: str = "1753.20",
    staff_eur_per_month: str = "4090.80",
) -> GpuPool:
    return GpuPool(
        name=name,
        gpu_count=gpu_count,
        hardware_eur=Decimal(hardware_eur),
        amortisation_years=Decimal(amortisation_years),
        watts_per_gpu=Decimal(watts_per_gpu),
        pue=Decimal(pue),
        eur_per_kwh=Decimal(eur_per_kwh),
        hosting_eur_per_month=Decimal(hosting_eur_per_month),
        staff_eur_per_month=Decimal(staff_eur_per_month),
    )


def make_deployment(
    *,
    name: str = "mistral-small-onprem",
    model: str = "mistral-small",
    pool: str = "h100-a",
    gpus: int = 2,
    capacity: str = "2000",
    target_utilisation: str = "0.5",
    dedicated_to: str | None = None,
) -> Deployment:
    return Deployment(
        name=name,
        model=model,
        pool=pool,
        gpus=gpus,
        capacity=Decimal(capacity),
        target_utilisation=Decimal(target_utilisation),
        weights=TokenWeights(Decimal(1), Decimal("0.1"), Decimal(4)),
        dedicated_to=dedicated_to,
    )


def test_cost_per_gpu_hour_by_hand() -> None:
    # hardware: 350,640 / (8 GPUs x 5 years x 8,766 h)   = 1.00 EUR/GPU-h
    # power:    1,000 W / 1000 x PUE 1.5 x 0.20 EUR/kWh   = 0.30 EUR/GPU-h
    # fixed:    (1,753.20 + 4,090.80) / (8 x 730.5 h)     = 1.00 EUR/GPU-h
    breakdown = make_pool().cost_breakdown()
    assert breakdown.hardware == Decimal(1)
    assert breakdown.power == Decimal("0.3")
    assert breakdown.fixed == Decimal(1)
    assert make_pool().cost_per_gpu_hour == Decimal("2.30")


def test_transfer_price_of_one_request_by_hand() -> None:
    rate = TransferRate(make_pool(), make_deployment())
    charge = rate.price(TokenUsage(input=3_000, cached_input=2_000, output=800))
    # W = 3,000 x 1 + 2,000 x 0.1 + 800 x 4 = 6,400 weighted tokens
    # s = 6,400 / 2,000 = 3.2 GPU-seconds at declared capacity
    # price = 3.2 / 0.5 x 2.30 / 3600 = 14.72 / 3600 EUR
    assert charge.weighted_tokens == Decimal(6400)
    assert charge.gpu_seconds == Decimal("3.2")
    assert charge.amount_eur == Decimal("14.72") / 3600
    assert round(charge.amount_eur, 8) == Decimal("0.00408889")
    assert charge.eur_per_gpu_hour == Decimal("2.30")
    # Unit prices per million tokens reproduce the amount: 2.30 / 3.6 EUR per million weighted.
    per_million_weighted = Decimal("2.30") / Decimal("3.6")
    assert charge.unit_prices_eur[PriceClass.OUTPUT] == 4 * per_million_weighted
    recomputed = sum(
        charge.unit_prices_eur[pc] * TokenUsage(3_000, 2_000, 800).of(pc) / 1_000_000
        for pc in PriceClass
    )
    assert abs(recomputed - charge.amount_eur) < Decimal("1e-20")
    assert charge.rate_id == rate.version_id


def test_rate_id_changes_with_any_parameter() -> None:
    base = TransferRate(make_pool(), make_deployment()).version_id
    assert base == TransferRate(make_pool(), make_deployment()).version_id
    assert base != TransferRate(make_pool(eur_per_kwh="0.21"), make_deployment()).version_id
    assert base != TransferRate(make_pool(), make_deployment(capacity="2100")).version_id


@pytest.mark.parametrize(("month", "hours"), [(1, 744), (2, 672), (3, 743), (10, 745), (11, 720)])
def test_months_in_paris_have_their_real_length(month: int, hours: int) -> None:
    period = month_period(2026, month, PARIS)
    assert period_hours(period) == hours
    assert make_pool().cost_of(period) == Decimal(8 * hours) * Decimal("2.30")


def test_cost_model_checks_gpu_counts_and_finds_deployments() -> None:
    model = OnPremCostModel.of(
        [make_pool()],
        [
            make_deployment(),
            make_deployment(name="llama-radiologie", gpus=4, dedicated_to="radiologie"),
        ],
    )
    assert model.dedicated_gpus("h100-a") == {"radiologie": 4}
    assert model.shared_deployments("h100-a") == ["mistral-small-onprem"]
    charge = model.transfer_price("mistral-small-onprem", TokenUsage(output=1))
    assert charge.amount_eur > 0
    with pytest.raises(UnknownDeployment):
        model.rate("nope")
    with pytest.raises(InvalidCostModel):
        OnPremCostModel.of([make_pool(gpu_count=2)], [make_deployment(gpus=3)])
    with pytest.raises(InvalidCostModel):
        OnPremCostModel.of([make_pool()], [make_deployment(pool="elsewhere")])


@pytest.mark.parametrize(
    "change",
    [
        {"gpu_count": 0},
        {"pue": "0.9"},
        {"amortisation_years": "0"},
        {"eur_per_kwh": "-0.1"},
    ],
)
def test_invalid_pools_are_rejected(change: dict[str, object]) -> None:
    with pytest.raises(InvalidCostModel):
        make_pool(**change)  # type: ignore[arg-type]


def test_invalid_deployments_are_rejected() -> None:
    with pytest.raises(InvalidCostModel):
        make_deployment(target_utilisation="1.2")
    with pytest.raises(InvalidCostModel):
        make_deployment(capacity="0")
    with pytest.raises(InvalidCostModel):
        make_deployment(gpus=0)
