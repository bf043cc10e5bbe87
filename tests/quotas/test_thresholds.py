"""Soft thresholds: one event per threshold, node and period, on committed spend."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from billing.periods import PeriodKind, period_containing
from billing.quotas import Amount, BudgetUnit, Level, NodeLimits, Reserved, ThresholdCrossed
from billing.quotas.store import QuotaStore
from tests.quotas.conftest import PARIS, StoreFactory
from tests.quotas.factories import T0, at, eur, make_chain, tokens

pytestmark = pytest.mark.anyio


def crossed(pct: int, spent: int, period_key: str = "2026-03") -> ThresholdCrossed:
    return ThresholdCrossed(
        "org", Level.ORGANISATION, pct, period_key, BudgetUnit.EUR, spent, 1_000
    )


async def spend(
    store: QuotaStore, request_id: str, chain: list[NodeLimits], amount: Amount, now: datetime
) -> list[ThresholdCrossed]:
    assert isinstance(await store.reserve(request_id, chain, amount, now), Reserved)
    return await store.settle(request_id, amount, now)


async def test_each_threshold_is_reported_once_per_period(make_store: StoreFactory) -> None:
    store = make_store()
    chain = make_chain(organisation={"budget_micro_eur": 1_000})
    assert await spend(store, "r1", chain, eur(400), T0) == []
    assert await spend(store, "r2", chain, eur(100), at(1)) == [crossed(50, 500)]
    assert await spend(store, "r3", chain, eur(100), at(2)) == []
    assert await spend(store, "r4", chain, eur(350), at(3)) == [crossed(80, 950)]
    assert await spend(store, "r5", chain, eur(50), at(4)) == [crossed(100, 1_000)]
    # April: a new period, the thresholds are armed again.
    april = datetime(2026, 4, 2, 9, tzinfo=UTC)
    assert await spend(store, "r6", chain, eur(850), april) == [
        crossed(50, 850, "2026-04"),
        crossed(80, 850, "2026-04"),
    ]


async def test_thresholds_count_committed_spend_not_holds(make_store: StoreFactory) -> None:
    store = make_store()
    chain = make_chain(organisation={"budget_micro_eur": 1_000})
    await store.reserve("r1", chain, eur(900), T0)
    # 900 held, but only 100 spent: 10 %.
    assert await store.settle("r1", eur(100), at(1)) == []


async def test_token_budgets_and_custom_thresholds(make_store: StoreFactory) -> None:
    store = make_store()
    chain = make_chain(
        team={
            "budget_tokens": 200,
            "thresholds_pct": (25, 90),
            "period": None,
            "rolling_window_s": 3600,
        }
    )
    events = await spend(store, "r1", chain, tokens(60), T0)
    epoch = int(T0.timestamp()) // 3600
    assert events == [
        ThresholdCrossed(
            "team-radiology", Level.TEAM, 25, f"rolling-3600s-{epoch}", BudgetUnit.TOKENS, 60, 200
        )
    ]


async def test_a_rebuild_never_emits_but_the_next_settle_does(make_store: StoreFactory) -> None:
    store = make_store()
    chain = make_chain(organisation={"budget_micro_eur": 1_000})
    await store.rebuild({"org": eur(600)}, period_containing(PeriodKind.MONTH, T0, PARIS))
    assert await spend(store, "r1", chain, eur(1), T0) == [crossed(50, 601)]


async def test_concurrent_settles_report_each_threshold_once(make_store: StoreFactory) -> None:
    store = make_store()
    chain = make_chain(
        department={"budget_micro_eur": 1_000, "thresholds_pct": (10, 20, 30, 40, 50)},
        organisation={"budget_micro_eur": 1_000},
    )

    async def one(index: int) -> list[ThresholdCrossed]:
        reserved = await store.reserve(f"r{index}", chain, eur(10), at(index / 100))
        await asyncio.sleep(0)
        assert isinstance(reserved, Reserved)
        return await store.settle(f"r{index}", eur(10), at(index / 100))

    results = await asyncio.gather(*(one(index) for index in range(100)))
    events = [event for result in results for event in result]
    assert sorted((e.node_id, e.threshold_pct) for e in events) == sorted(
        [("dept-imaging", pct) for pct in (10, 20, 30, 40, 50)]
        + [("org", pct) for pct in (50, 80, 100)]
    )
