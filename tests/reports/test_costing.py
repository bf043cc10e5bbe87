"""Pricing one request: the regime per deployment, exact agreement with the domain, speed."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.money import to_micros
from billing.pricing.cost_config import CatalogDeployment, CostConfigError, build_costing
from billing.pricing.costing import PricingKind
from billing.pricing.price_book import TokenUsage
from billing.usage import Usage
from tests.reports.factories import CATALOG_VIEW, PARIS, make_cost_config, make_costing, utc

MARCH_10 = utc(2026, 3, 10)


def test_worked_example_request_costs_4089_micro_euros_on_premise() -> None:
    # COST_MODEL.md: 5,000 prompt tokens (2,000 cached) and 800 completion tokens on
    # ms-onprem: W = 6,400, s = 3.2 GPU-s, price = 3.2 / 0.5 x 2.30 / 3600 = 0.0040889 EUR.
    costing = make_costing()
    cost = costing.price_request("mistral-small", "ms-onprem", Usage(5000, 800, 2000), MARCH_10)
    assert cost.micro_eur == 4089
    assert cost.kind is PricingKind.TRANSFER_PRICE
    assert cost.version == costing.onprem.rate("ms-onprem").version_id


def test_dedicated_deployment_costs_nothing_per_request() -> None:
    costing = make_costing()
    cost = costing.price_request("radio-llm", "radio-onprem", Usage(5000, 800), MARCH_10)
    assert cost.micro_eur == 0
    assert cost.kind is PricingKind.DEDICATED
    assert cost.version.startswith("dedicated.onprem:radio-onprem.")
    assert costing.unpriced_counts() == {}


def test_external_model_uses_the_version_in_effect_at_the_start() -> None:
    # 0.4 EUR / M input and 2 / M output until 15 March (Paris midnight), then 0.5 / 0.1 / 2.5.
    costing = make_costing()
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=100_000, cached_tokens=200_000)
    before = costing.price_request("mistral-medium", "mm-cloud", usage, utc(2026, 3, 14, 22, 59))
    after = costing.price_request("mistral-medium", "mm-cloud", usage, utc(2026, 3, 14, 23, 0))
    # before: (800,000 + 200,000) x 0.4 + 100,000 x 2 = 600,000 micro-euros
    # after: 800,000 x 0.5 + 200,000 x 0.1 + 100,000 x 2.5 = 670,000 micro-euros
    assert (before.micro_eur, after.micro_eur) == (600_000, 670_000)
    assert before.version != after.version
    assert after.version.startswith("mistral-medium@2026-03-14.")  # Paris midnight in UTC
    # The cache must not keep serving the new price to an older request.
    again = costing.price_request("mistral-medium", "mm-cloud", usage, utc(2026, 3, 1))
    assert again.version == before.version


def test_usd_price_is_converted_at_the_configured_rate() -> None:
    costing = make_costing()
    cost = costing.price_request("gpt-4o-mini", "azure-4o", Usage(1_000_000, 1_000_000), MARCH_10)
    assert cost.micro_eur == 690_000  # (0.15 + 0.6) USD x 0.92
    assert cost.kind is PricingKind.TOKEN_PRICE


def test_unknown_and_unpriced_requests_cost_zero_and_are_counted() -> None:
    costing = make_costing(prices={})
    assert costing.price_request("nope", "nowhere", Usage(10, 10), MARCH_10).micro_eur == 0
    assert costing.price_request(None, None, Usage(), MARCH_10).version == "unpriced"
    unpriced = costing.price_request("mistral-medium", "mm-cloud", Usage(10, 10), MARCH_10)
    assert unpriced.kind is PricingKind.UNPRICED
    assert costing.unpriced_counts() == {(None, None): 2, ("mistral-medium", "mm-cloud"): 1}


def test_a_price_for_the_deployment_wins_over_the_model_price() -> None:
    prices = {
        "mistral-medium": {"input": "1", "output": "1", "effective_from": "2026-01-01"},
        "mm-cloud": {"input": "3", "output": "3", "effective_from": "2026-01-01"},
    }
    costing = make_costing(prices=prices)
    cost = costing.price_request("mistral-medium", "mm-cloud", Usage(1_000_000), MARCH_10)
    assert cost.micro_eur == 3_000_000


def test_request_before_the_first_price_is_unpriced_until_it_starts() -> None:
    prices = {"mistral-medium": {"input": "1", "output": "1", "effective_from": "2026-03-15"}}
    costing = make_costing(prices=prices)
    usage = Usage(1_000_000)
    assert costing.price_request("mistral-medium", "mm-cloud", usage, MARCH_10).micro_eur == 0
    later = costing.price_request("mistral-medium", "mm-cloud", usage, utc(2026, 3, 20))
    assert later.micro_eur == 1_000_000


@settings(max_examples=60, deadline=None)
@given(
    prompt=st.integers(0, 2_000_000),
    cached_share=st.integers(0, 100),
    completion=st.integers(0, 500_000),
    minutes=st.integers(0, 60 * 24 * 120),
)
def test_amounts_agree_exactly_with_the_price_book_and_the_transfer_rate(
    prompt: int, cached_share: int, completion: int, minutes: int
) -> None:
    costing = make_costing()
    at = utc(2026, 1, 1) + timedelta(minutes=minutes)
    cached = prompt * cached_share // 100
    usage = Usage(prompt, completion, cached)
    tokens = TokenUsage.from_openai(prompt, completion, cached)
    for model, deployment in (("mistral-medium", "mm-cloud"), ("gpt-4o-mini", "azure-4o")):
        charge = costing.book.charge(model, tokens, at)
        cost = costing.price_request(model, deployment, usage, at)
        assert (cost.micro_eur, cost.version) == (charge.amount_micros, charge.version_id)
    transfer = costing.onprem.transfer_price("ms-onprem", tokens)
    cost = costing.price_request("mistral-small", "ms-onprem", usage, at)
    assert cost.micro_eur == to_micros(transfer.amount_eur)


def test_worst_case_is_the_dearest_deployment_without_cache_discount() -> None:
    view = (
        *CATALOG_VIEW,
        CatalogDeployment("mistral-medium", "mm-onprem", "vllm", "on_premise", "h100-a", 2),
    )
    config = make_cost_config(
        deployments={"mm-onprem": {"capacity": "2000", "target_utilisation": "0.5"}}
    )
    costing = build_costing(config, view, tz=PARIS)
    # External: 1,000,000 x 0.4 + 100,000 x 2 = 600,000 micro-euros. On premise: 1,400,000
    # weighted tokens x 2.30 / 3.6e9 EUR = 0.8944444 EUR = 894,444 micro-euros: that is held.
    assert costing.worst_case_micro_eur("mistral-medium", 1_000_000, 100_000, MARCH_10) == 894_444
    for deployment in ("mm-cloud", "mm-onprem"):
        usage = Usage(1_000_000, 100_000, 500_000)
        actual = costing.price_request("mistral-medium", deployment, usage, MARCH_10)
        assert 0 < actual.micro_eur <= 894_444
    assert costing.worst_case_micro_eur("radio-llm", 1000, 1000, MARCH_10) == 0
    assert costing.worst_case_micro_eur("nope", 1000, 1000) == 0
    assert costing.unpriced_counts() == {}


def test_cached_tokens_beyond_the_prompt_are_capped() -> None:
    costing = make_costing()
    odd = costing.price_request("mistral-medium", "mm-cloud", Usage(100, 0, 500), MARCH_10)
    assert odd.micro_eur == 40  # 100 tokens at 0.4 EUR / M, none negative


def test_pricing_one_request_takes_well_under_20_microseconds() -> None:
    costing = make_costing()
    usage = Usage(5000, 800, 2000)
    for model, deployment in (("mistral-small", "ms-onprem"), ("mistral-medium", "mm-cloud")):
        costing.price_request(model, deployment, usage, MARCH_10)
        calls = 20_000
        started = time.perf_counter()
        for _ in range(calls):
            costing.price_request(model, deployment, usage, MARCH_10)
        per_call_us = (time.perf_counter() - started) / calls * 1e6
        assert per_call_us < 20, f"{deployment}: {per_call_us:.1f} us per call"


def test_litellm_prices_are_seeded_from_the_map_with_a_stable_start() -> None:
    price_map = {
        "mistral/mistral-medium-latest": {
            "input_cost_per_token": Decimal("4e-7"),
            "output_cost_per_token": Decimal("2e-6"),
        }
    }
    config = make_cost_config(
        prices={}, litellm_models={"mistral-medium": "mistral/mistral-medium-latest"}
    )
    costing = build_costing(config, CATALOG_VIEW, tz=PARIS, price_map=price_map)
    [version] = costing.book.history("mistral-medium")
    assert version.currency == "USD"
    assert version.effective_from == datetime(2025, 1, 1, tzinfo=PARIS)
    cost = costing.price_request("mistral-medium", "mm-cloud", Usage(1_000_000), MARCH_10)
    assert cost.micro_eur == 368_000  # 0.4 USD x 0.92


def test_amounts_must_be_text_not_yaml_floats() -> None:
    with pytest.raises(ValueError, match="quoted text"):
        make_cost_config(fx_to_eur={"USD": 0.92})


def test_every_configuration_problem_is_reported_at_once() -> None:
    view = (
        *CATALOG_VIEW,
        CatalogDeployment("big", "big-onprem", "vllm", "on_premise", "a100", 1),
        CatalogDeployment("half", "half-onprem", "vllm", "on_premise", "h100-a", 0.5),
    )
    config = make_cost_config(
        fx_to_eur={},
        deployments={
            "ms-onprem": {"capacity": "2000", "target_utilisation": "0.5"},
            "big-onprem": {"capacity": "1000", "target_utilisation": "0.5"},
            "half-onprem": {"capacity": "1000", "target_utilisation": "0.5"},
            "mm-cloud": {"capacity": "1000", "target_utilisation": "0.5"},
            "ghost": {"capacity": "1000", "target_utilisation": "0.5"},
        },
        litellm_models={"nothing": "no/such-model"},
        prices={
            "m" * 60: {"input": "1", "output": "1", "effective_from": "2026-01-01"},
            "gpt-4o-mini": {
                "input": "1",
                "output": "1",
                "currency": "USD",
                "effective_from": "2026-01-01",
            },
        },
    )
    with pytest.raises(CostConfigError) as caught:
        build_costing(config, view, tz=PARIS, price_map={})
    text = "\n".join(caught.value.problems)
    assert "cost.deployments.ghost: no such deployment" in text
    assert "cost.deployments.mm-cloud: only on-premise vllm deployments" in text
    assert "undeclared pool 'a100'" in text
    assert "whole number of GPUs" in text
    assert "no litellm price for nothing" in text
    assert "no exchange rate configured for USD" in text
    assert "longer than 64 characters" in text


def test_more_gpus_deployed_than_the_pool_has_is_refused() -> None:
    view = (CatalogDeployment("x", "x-onprem", "vllm", "on_premise", "h100-a", 9),)
    config = make_cost_config(
        deployments={"x-onprem": {"capacity": "1", "target_utilisation": "1"}}
    )
    with pytest.raises(CostConfigError, match="has 8 GPUs, deployments use 9"):
        build_costing(config, view)


def test_on_premise_deployment_without_transfer_settings_is_unpriced() -> None:
    costing = make_costing(deployments={})
    cost = costing.price_request("mistral-small", "ms-onprem", Usage(10, 10), MARCH_10)
    assert cost.kind is PricingKind.UNPRICED
    assert costing.unpriced_counts() == {("mistral-small", "ms-onprem"): 1}
