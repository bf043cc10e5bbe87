"""Dated cost figures: a new pool cost, capacity or exchange rate never changes an earlier month."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

from billing.reports.chargeback import render_csv
from billing.reports.focus import focus_csv
from billing.reports.ledger_charges import MonthCharges, month_charges, parse_month
from billing.reports.rows import TokenClass
from billing.usage import Usage
from tests.billing.test_focus import assert_focus_conformant
from tests.reports.factories import (
    PARIS,
    POOL,
    make_costing,
    make_directory,
    make_record,
    run,
    seed,
    utc,
)

T = TypeVar("T")
OCTOBER = parse_month("2026-10", PARIS)
NOVEMBER = parse_month("2026-11", PARIS)


def _dated_pool(eur_per_kwh: str) -> dict[str, Any]:
    return {
        "h100-a": [
            {**POOL, "eur_per_kwh": "0.187"},
            {**POOL, "eur_per_kwh": eur_per_kwh, "effective_from": "2026-11-01"},
        ]
    }


def _usd_rates(*rates: tuple[str, str | None]) -> dict[str, Any]:
    return {"USD": [{"rate": r, "effective_from": d} for r, d in rates]}


def test_a_new_electricity_price_leaves_october_unchanged(sqlite_url: str) -> None:
    before = make_costing(pools={"h100-a": {**POOL, "eur_per_kwh": "0.187"}})
    after = make_costing(pools=_dated_pool("0.200"))

    async def scenario(engine: Any) -> tuple[MonthCharges, MonthCharges, MonthCharges]:
        depts, users = await make_directory(engine, {"cardiologie": ["a"], "urgences": ["b"]})
        onprem: dict[str, Any] = {"model": "mistral-small", "deployment": "ms-onprem"}
        await seed(
            engine,
            [
                make_record(started_at=utc(2026, 10, 5), department_id=depts["cardiologie"],
                            user_id=users["a"], completion_tokens=1_000_000, costing=before,
                            **onprem),
                make_record(started_at=utc(2026, 10, 6), department_id=depts["urgences"],
                            user_id=users["b"], completion_tokens=500_000, costing=before,
                            **onprem),
                make_record(started_at=utc(2026, 11, 6), department_id=depts["urgences"],
                            user_id=users["b"], completion_tokens=500_000, costing=after,
                            **onprem),
            ],
        )  # fmt: skip
        return (
            await month_charges(engine, before, OCTOBER),
            await month_charges(engine, after, OCTOBER),
            await month_charges(engine, after, NOVEMBER),
        )

    october_then, october_now, november = run(sqlite_url, scenario)
    assert october_now.unknown_versions == ()
    for department in ("cardiologie", "urgences"):
        assert render_csv(october_now.statement(department)) == render_csv(
            october_then.statement(department)
        )
    account = before.focus_account()
    assert focus_csv(october_now.lines, account) == focus_csv(october_then.lines, account)
    # November is priced with the new figures: 0.013 EUR more per kWh x 1.5 PUE per GPU-hour.
    [pool_october] = october_now.true_ups
    [pool_november] = november.true_ups
    assert pool_october.eur_per_gpu_hour + Decimal("0.0195") == pool_november.eur_per_gpu_hour
    assert pool_november.pool_cost_eur == Decimal("13248.00")  # 8 x 720 h x 2.30 EUR


def test_a_pool_change_mid_month_prices_each_part_of_the_month_with_its_figures() -> None:
    costing = make_costing(
        pools={
            "h100-a": [
                {**POOL},
                {**POOL, "eur_per_kwh": "0.30", "effective_from": "2026-11-16"},
            ]
        }
    )
    segments = costing.onprem.pool_segments("h100-a", NOVEMBER)
    assert [hours for _, hours in segments] == [Decimal(360), Decimal(360)]
    ledger_cost = costing.price_request(
        "mistral-small", "ms-onprem", Usage(0, 1_000_000, 0), utc(2026, 11, 20)
    )
    earlier = costing.price_request(
        "mistral-small", "ms-onprem", Usage(0, 1_000_000, 0), utc(2026, 11, 10)
    )
    assert ledger_cost.version != earlier.version
    assert costing.prices_of(earlier.version) is not None
    assert costing.prices_of(ledger_cost.version) is not None


def test_a_later_exchange_rate_does_not_reprice_past_lines(sqlite_url: str) -> None:
    then = make_costing(fx_to_eur=_usd_rates(("0.92", None)))
    now = make_costing(fx_to_eur=_usd_rates(("0.92", None), ("0.95", "2026-11-01")))
    october_usage: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "deployment": "azure-4o",
        "prompt_tokens": 2_000_000,
        "completion_tokens": 1_000_000,
    }

    async def scenario(engine: Any) -> tuple[MonthCharges, MonthCharges]:
        depts, _ = await make_directory(engine, {"cardiologie": []})
        record = make_record(
            started_at=utc(2026, 10, 7), department_id=depts["cardiologie"], costing=then,
            **october_usage,
        )  # fmt: skip
        await seed(engine, [record])
        return await month_charges(engine, then, OCTOBER), await month_charges(engine, now, OCTOBER)

    october_then, october_now = run(sqlite_url, scenario)
    assert october_now.lines == october_then.lines
    output = next(ln for ln in october_now.lines if ln.token_class is TokenClass.OUTPUT)
    assert output.unit_price == Decimal("0.6") * Decimal("0.92")
    assert output.pricing_currency == "USD" and output.pricing_unit_price == Decimal("0.6")
    assert output.fx_rate == Decimal("0.92")
    # A November request is priced at the new rate.
    november = now.price_request(
        "gpt-4o-mini", "azure-4o", Usage(0, 1_000_000, 0), utc(2026, 11, 2)
    )
    assert november.fx_rate == Decimal("0.95") and november.micro_eur == 570_000


def test_figures_edited_in_place_still_share_an_open_month_by_usage(sqlite_url: str) -> None:
    # The reported defect: editing the electricity price in place made every past transfer
    # version unknown, so October's usage left the true-up (all of it went to "unallocated")
    # and every token class got the same blended price.
    before = make_costing(pools={"h100-a": {**POOL, "eur_per_kwh": "0.187"}})
    edited = make_costing(pools={"h100-a": {**POOL, "eur_per_kwh": "0.200"}})

    async def scenario(engine: Any) -> tuple[MonthCharges, MonthCharges]:
        depts, users = await make_directory(engine, {"cardiologie": ["a"], "urgences": ["b"]})
        onprem: dict[str, Any] = {"model": "mistral-small", "deployment": "ms-onprem"}
        await seed(
            engine,
            [
                make_record(started_at=utc(2026, 10, 5), department_id=depts["cardiologie"],
                            user_id=users["a"], prompt_tokens=400_000,
                            completion_tokens=1_000_000, costing=before, **onprem),
                make_record(started_at=utc(2026, 10, 6), department_id=depts["urgences"],
                            user_id=users["b"], completion_tokens=500_000, costing=before,
                            **onprem),
            ],
        )  # fmt: skip
        return (
            await month_charges(engine, before, OCTOBER),
            await month_charges(engine, edited, OCTOBER),
        )

    then, now = run(sqlite_url, scenario)
    assert now.unknown_versions != ()
    [pool_then] = then.true_ups
    [pool_now] = now.true_ups
    assert pool_now.unallocated_eur == pool_then.unallocated_eur == Decimal("0.00")
    assert [p.weighted_tokens for p in pool_now.departments] == [
        p.weighted_tokens for p in pool_then.departments
    ]
    assert pool_now.transfer_total_eur == pool_then.transfer_total_eur
    cardiologie = {
        str(ln.token_class): ln.unit_price
        for ln in now.lines_for("cardiologie")
        if ln.token_class in (TokenClass.INPUT, TokenClass.OUTPUT)
    }
    # Output tokens weigh 4 input tokens: their derived prices (to the micro-euro) keep that.
    assert cardiologie["input"] is not None and cardiologie["output"] is not None
    assert abs(cardiologie["output"] - 4 * cardiologie["input"]) <= Decimal("0.000004")
    assert_focus_conformant(focus_csv(now.lines, edited.focus_account()))
