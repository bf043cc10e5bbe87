"""RPM and TPM (GCRA, counted in the store) and concurrency (the reservation set)."""

from __future__ import annotations

import pytest

from billing.quotas import Amount, Level, LimitKind, RateFigures, Refused, Reserved
from tests.quotas.conftest import StoreFactory
from tests.quotas.factories import T0, at, eur, make_chain, tokens

pytestmark = pytest.mark.anyio


async def test_rpm_admits_a_burst_then_tells_when_to_retry(make_store: StoreFactory) -> None:
    store = make_store()
    chain = make_chain(team={"rpm": 2})
    first = await store.reserve("r1", chain, eur(1), T0)
    second = await store.reserve("r2", chain, eur(1), T0)
    assert isinstance(first, Reserved) and isinstance(second, Reserved)
    assert first.requests == RateFigures(limit=2, remaining=1, reset_s=30)
    assert second.requests == RateFigures(limit=2, remaining=0, reset_s=60)
    assert first.tokens is None

    refused = await store.reserve("r3", chain, eur(1), at(10))
    assert refused == Refused("r3", Level.TEAM, "team-radiology", LimitKind.RPM, 2, 20)
    assert isinstance(await store.reserve("r3", chain, eur(1), at(29)), Refused)
    assert isinstance(await store.reserve("r3", chain, eur(1), at(30)), Reserved)


async def test_tpm_counts_the_reservation_and_refunds_unused_tokens(
    make_store: StoreFactory,
) -> None:
    store = make_store()
    chain = make_chain(user={"tpm": 1_000})
    first = await store.reserve("r1", chain, tokens(600), T0)
    assert isinstance(first, Reserved)
    assert first.tokens == RateFigures(limit=1_000, remaining=400, reset_s=36)
    refused = await store.reserve("r2", chain, tokens(600), T0)
    assert refused == Refused("r2", Level.USER, "user-1", LimitKind.TPM, 1_000, 12)

    # 500 of the 600 reserved tokens were not used: they are given back to the limit.
    await store.settle("r1", tokens(100), at(1))
    second = await store.reserve("r2", chain, tokens(600), at(1))
    assert isinstance(second, Reserved)
    assert second.tokens == RateFigures(limit=1_000, remaining=316, reset_s=41)


async def test_release_gives_reserved_tokens_back_to_tpm(make_store: StoreFactory) -> None:
    store = make_store()
    chain = make_chain(user={"tpm": 1_000})
    await store.reserve("r1", chain, tokens(1_000), T0)
    assert isinstance(await store.reserve("r2", chain, tokens(1), T0), Refused)
    await store.release("r1")
    assert isinstance(await store.reserve("r2", chain, tokens(1_000), T0), Reserved)


async def test_a_request_larger_than_the_tpm_is_told_to_wait_a_minute(
    make_store: StoreFactory,
) -> None:
    store = make_store()
    refused = await store.reserve("big", make_chain(key={"tpm": 100}), tokens(101), T0)
    assert refused == Refused("big", Level.KEY, "key-1", LimitKind.TPM, 100, 60)


async def test_headers_describe_the_most_constrained_level(make_store: StoreFactory) -> None:
    store = make_store()
    chain = make_chain(
        key={"rpm": 100, "tpm": 600},
        user={"rpm": 10},
        organisation={"rpm": 3, "tpm": 10_000},
    )
    reserved = await store.reserve("r1", chain, tokens(60), T0)
    assert isinstance(reserved, Reserved)
    assert reserved.requests == RateFigures(limit=3, remaining=2, reset_s=20)
    assert reserved.tokens == RateFigures(limit=600, remaining=540, reset_s=6)


async def test_a_refused_request_consumes_no_rate_anywhere(make_store: StoreFactory) -> None:
    store = make_store()
    org = {"rpm": 100}
    assert isinstance(
        await store.reserve("r1", make_chain(user={"rpm": 1}, organisation=org), eur(1), T0),
        Reserved,
    )
    refused = await store.reserve("r2", make_chain(user={"rpm": 1}, organisation=org), eur(1), T0)
    assert isinstance(refused, Refused) and refused.node_id == "user-1"
    other_user = make_chain(user_id="user-2", key_id="key-2", organisation=org)
    reserved = await store.reserve("r3", other_user, eur(1), T0)
    assert isinstance(reserved, Reserved)
    assert reserved.requests == RateFigures(limit=100, remaining=98, reset_s=2)


async def test_concurrency_counts_live_reservations(make_store: StoreFactory) -> None:
    store = make_store()
    chain = make_chain(key={"max_concurrent": 2})
    assert isinstance(await store.reserve("r1", chain, eur(1), T0), Reserved)
    assert isinstance(await store.reserve("r2", chain, eur(1), T0), Reserved)
    refused = await store.reserve("r3", chain, eur(1), T0)
    assert refused == Refused("r3", Level.KEY, "key-1", LimitKind.CONCURRENCY, 2, 1)
    await store.settle("r1", eur(1), at(1))
    assert isinstance(await store.reserve("r3", chain, eur(1), at(1)), Reserved)
    await store.release("r2")
    assert isinstance(await store.reserve("r4", chain, eur(1), at(2)), Reserved)
    assert isinstance(await store.reserve("r5", chain, eur(1), at(2)), Refused)


async def test_a_budget_refusal_wins_over_rate_limits(make_store: StoreFactory) -> None:
    store = make_store()
    chain = make_chain(key={"rpm": 1}, organisation={"budget_micro_eur": 10})
    await store.reserve("r1", chain, eur(10), T0)
    refused = await store.reserve("r2", chain, eur(10), T0)
    assert refused == Refused("r2", Level.ORGANISATION, "org", LimitKind.BUDGET_EUR, 10, None)


async def test_the_longest_rate_wait_is_reported(make_store: StoreFactory) -> None:
    store = make_store()
    chain = make_chain(key={"rpm": 60}, user={"rpm": 1})
    await store.reserve("r1", chain, Amount(1, 1), T0)
    for index in range(59):
        await store.reserve(f"k{index}", make_chain(key={"rpm": 60}, user_id="u9"), eur(1), T0)
    refused = await store.reserve("r2", chain, eur(1), T0)
    # The key could retry in 1 s, the user only in 60 s: the client must wait for the user.
    assert refused == Refused("r2", Level.USER, "user-1", LimitKind.RPM, 1, 60)
