"""Reserve, then settle: atomic at every level, idempotent by request id, expiring holds."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from billing.periods import PeriodKind, period_containing
from billing.quotas import Amount, Level, LimitKind, NodeLimits, Refused, Reserved
from tests.quotas.conftest import PARIS, StoreFactory
from tests.quotas.factories import T0, at, eur, make_chain

pytestmark = pytest.mark.anyio

MONTH = period_containing(PeriodKind.MONTH, T0, PARIS)
NODE_IDS = ["key-1", "user-1", "team-radiology", "dept-imaging", "org"]


def windowed_chain(**limits: dict[str, Any]) -> list[NodeLimits]:
    """Every node counts its monthly spend; ``limits`` add limits per level."""

    def level(name: str) -> dict[str, Any]:
        return {"period": PeriodKind.MONTH, **limits.get(name, {})}

    return make_chain(
        key=level("key"),
        user=level("user"),
        team=level("team"),
        department=level("department"),
        organisation=level("organisation"),
    )


async def test_reserve_holds_at_every_level_and_settle_commits(make_store: StoreFactory) -> None:
    store = make_store()
    chain = windowed_chain(organisation={"budget_micro_eur": 10_000})
    reserved = await store.reserve("r1", chain, Amount(1_000, 100), T0)
    assert reserved == Reserved("r1", Amount(1_000, 100), None, None)
    for node_id in NODE_IDS:
        usage = await store.read(node_id, MONTH, at(1))
        assert (usage.committed, usage.reserved, usage.in_flight) == (
            Amount(0, 0),
            Amount(1_000, 100),
            1,
        )

    assert await store.settle("r1", Amount(600, 60), at(2)) == []
    for node_id in NODE_IDS:
        usage = await store.read(node_id, MONTH, at(3))
        assert (usage.committed, usage.reserved, usage.in_flight) == (
            Amount(600, 60),
            Amount(0, 0),
            0,
        )


async def test_a_refusal_at_one_level_holds_nothing_anywhere(make_store: StoreFactory) -> None:
    store = make_store()
    chain = windowed_chain(
        organisation={"budget_micro_eur": 1_000_000},
        department={"budget_micro_eur": 500},
    )
    refused = await store.reserve("r1", chain, eur(600), T0)
    # Only the refusing node's own limit is carried: nothing about the organisation's budget.
    assert refused == Refused(
        "r1", Level.DEPARTMENT, "dept-imaging", LimitKind.BUDGET_EUR, 500, None
    )
    for node_id in NODE_IDS:
        usage = await store.read(node_id, MONTH, at(1))
        assert (usage.reserved, usage.in_flight) == (Amount(0, 0), 0)
    assert await store.reserve("r2", chain, eur(500), at(1)) == Reserved("r2", eur(500), None, None)


async def test_token_budget_counts_committed_and_held_tokens(make_store: StoreFactory) -> None:
    store = make_store()
    chain = windowed_chain(user={"budget_tokens": 1_000})
    assert isinstance(await store.reserve("r1", chain, Amount(5, 700), T0), Reserved)
    await store.settle("r1", Amount(5, 400), at(1))
    assert isinstance(await store.reserve("r2", chain, Amount(5, 500), at(2)), Reserved)
    refused = await store.reserve("r3", chain, Amount(5, 101), at(3))
    assert refused == Refused("r3", Level.USER, "user-1", LimitKind.BUDGET_TOKENS, 1_000, None)
    assert isinstance(await store.reserve("r4", chain, Amount(5, 100), at(4)), Reserved)


async def test_reserve_and_settle_are_idempotent_by_request_id(make_store: StoreFactory) -> None:
    store = make_store()
    chain = windowed_chain(organisation={"budget_micro_eur": 10_000, "rpm": 10})
    first = await store.reserve("r1", chain, eur(3_000), T0)
    again = await store.reserve("r1", chain, eur(9_000), at(1))
    assert isinstance(first, Reserved) and isinstance(again, Reserved)
    assert again.duplicate and not first.duplicate
    assert (again.held, again.requests) == (first.held, first.requests)
    usage = await store.read("org", MONTH, at(1))
    assert (usage.reserved, usage.in_flight) == (eur(3_000), 1)

    await store.settle("r1", eur(2_000), at(2))
    assert await store.settle("r1", eur(2_000), at(3)) == []
    after_retry = await store.reserve("r1", chain, eur(3_000), at(4))
    assert isinstance(after_retry, Reserved) and after_retry.duplicate
    usage = await store.read("org", MONTH, at(5))
    assert (usage.committed, usage.reserved, usage.in_flight) == (eur(2_000), eur(0), 0)


async def test_release_gives_the_hold_back_and_commits_nothing(make_store: StoreFactory) -> None:
    store = make_store()
    chain = windowed_chain(organisation={"budget_micro_eur": 1_000})
    await store.reserve("r1", chain, eur(1_000), T0)
    await store.release("r1")
    await store.release("r1")
    assert await store.settle("r1", eur(1_000), at(1)) == []
    usage = await store.read("org", MONTH, at(2))
    assert (usage.committed, usage.reserved, usage.in_flight) == (eur(0), eur(0), 0)
    assert isinstance(await store.reserve("r2", chain, eur(1_000), at(3)), Reserved)


async def test_settling_an_unknown_request_changes_nothing(make_store: StoreFactory) -> None:
    store = make_store()
    assert await store.settle("never-reserved", eur(5), T0) == []
    assert not await store.top_up("never-reserved", eur(5), T0)
    usage = await store.read("org", MONTH, T0)
    assert (usage.committed, usage.reserved, usage.in_flight) == (eur(0), eur(0), 0)


async def test_200_concurrent_requests_never_exceed_the_budget(make_store: StoreFactory) -> None:
    store = make_store()
    chain = windowed_chain(organisation={"budget_micro_eur": 1_000})

    async def one(index: int) -> bool:
        result = await store.reserve(f"r{index}", chain, eur(300), at(index / 1000))
        await asyncio.sleep(0)
        if isinstance(result, Refused):
            return False
        await store.settle(f"r{index}", eur(300), at(index / 1000 + 0.5))
        return True

    outcomes = await asyncio.gather(*(one(index) for index in range(200)))
    # Committed spend never decreases within the month, so exactly floor(1000 / 300) get through.
    assert outcomes.count(True) == 3
    assert outcomes.count(False) == 197
    usage = await store.read("org", MONTH, at(10))
    assert usage.committed == eur(900)
    assert (usage.reserved, usage.in_flight) == (eur(0), 0)


async def test_a_dead_holders_reservation_expires_and_is_never_committed(
    make_store: StoreFactory,
) -> None:
    store = make_store(reservation_ttl_s=30)
    chain = windowed_chain(organisation={"budget_micro_eur": 1_000})
    assert isinstance(await store.reserve("dead", chain, eur(1_000), T0), Reserved)
    assert isinstance(await store.reserve("r2", chain, eur(1), at(29.999)), Refused)

    # The deadline is reserve time + TTL, judged on the passed-in time.
    usage = await store.read("org", MONTH, at(30))
    assert (usage.committed, usage.reserved, usage.in_flight) == (eur(0), eur(0), 0)
    assert isinstance(await store.reserve("r2", chain, eur(1_000), at(31)), Reserved)
    assert not await store.top_up("dead", eur(1), at(32))


async def test_a_late_settle_after_expiry_commits_without_releasing_twice(
    make_store: StoreFactory,
) -> None:
    store = make_store(reservation_ttl_s=30)
    chain = windowed_chain(organisation={"budget_micro_eur": 10_000})
    await store.reserve("slow", chain, eur(1_000), T0)
    await store.reserve("other", chain, eur(2_000), at(20))
    await store.settle("slow", eur(700), at(40))
    usage = await store.read("org", MONTH, at(41))
    # The spend happened (the ledger has it), so it is committed; only "other" is still held.
    assert (usage.committed, usage.reserved, usage.in_flight) == (eur(700), eur(2_000), 1)


async def test_a_top_up_restarts_the_reservation_clock(make_store: StoreFactory) -> None:
    store = make_store(reservation_ttl_s=30)
    chain = windowed_chain(organisation={"budget_micro_eur": 10_000})
    await store.reserve("stream", chain, eur(1_000), T0)
    assert await store.top_up("stream", eur(500), at(25))
    usage = await store.read("org", MONTH, at(50))
    assert (usage.reserved, usage.in_flight) == (eur(1_500), 1)
    usage = await store.read("org", MONTH, at(55))
    assert (usage.reserved, usage.in_flight) == (eur(0), 0)


async def test_rebuild_replaces_committed_spend_with_the_ledgers(make_store: StoreFactory) -> None:
    store = make_store()
    chain = windowed_chain(organisation={"budget_micro_eur": 1_000})
    await store.reserve("r1", chain, eur(100), T0)
    await store.settle("r1", eur(100), at(1))
    await store.rebuild({"org": eur(900), "dept-imaging": Amount(50, 7)}, MONTH)
    assert (await store.read("org", MONTH, at(2))).committed == eur(900)
    assert (await store.read("dept-imaging", MONTH, at(2))).committed == Amount(50, 7)
    assert (await store.read("team-radiology", MONTH, at(2))).committed == eur(100)
    assert isinstance(await store.reserve("r2", chain, eur(101), at(3)), Refused)
    assert isinstance(await store.reserve("r3", chain, eur(100), at(4)), Reserved)
