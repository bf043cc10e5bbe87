"""Top-ups and the overshoot bound stated in billing/quotas/store.py.

committed(W) <= B + sum over settled requests of max(0, actual - held): zero when responses stay
within their holds, and one chunk per stream that is cut after a refused top-up.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from billing.periods import PeriodKind, period_containing
from billing.quotas import Amount, Refused, Reserved
from tests.quotas.conftest import PARIS, StoreFactory
from tests.quotas.factories import T0, at, make_chain, tokens

pytestmark = pytest.mark.anyio

MONTH = period_containing(PeriodKind.MONTH, T0, PARIS)


async def test_top_up_is_all_levels_or_none(make_store: StoreFactory) -> None:
    store = make_store()
    chain = make_chain(
        department={"budget_tokens": 300},
        organisation={"budget_tokens": 10_000},
    )
    await store.reserve("s1", chain, tokens(200), T0)
    assert await store.top_up("s1", tokens(100), at(1))
    assert not await store.top_up("s1", tokens(1), at(2))
    for node_id in ("dept-imaging", "org", "key-1"):
        usage = await store.read(node_id, MONTH, at(3))
        assert usage.reserved == tokens(300)


async def test_no_overshoot_when_responses_stay_within_their_holds(
    make_store: StoreFactory,
) -> None:
    budget = 5_000
    store = make_store()
    chain = make_chain(organisation={"budget_tokens": budget, "budget_micro_eur": budget})
    rng = random.Random(7)
    held: dict[str, int] = {}
    for step in range(300):
        now = at(step)
        action = rng.random()
        if action < 0.45 or not held:
            size = rng.randint(1, 900)
            if isinstance(
                await store.reserve(f"r{step}", chain, Amount(size, size), now), Reserved
            ):
                held[f"r{step}"] = size
        elif action < 0.6:
            request_id = rng.choice(sorted(held))
            extra = rng.randint(1, 400)
            if await store.top_up(request_id, Amount(extra, extra), now):
                held[request_id] += extra
        elif action < 0.95:
            request_id = rng.choice(sorted(held))
            actual = rng.randint(0, held.pop(request_id))
            await store.settle(request_id, Amount(actual, actual), now)
        else:
            request_id = rng.choice(sorted(held))
            del held[request_id]
            await store.release(request_id)
        usage = await store.read("org", MONTH, now)
        assert usage.reserved == Amount(sum(held.values()), sum(held.values()))
        assert usage.committed.tokens + usage.reserved.tokens <= budget
        assert usage.committed.micro_eur + usage.reserved.micro_eur <= budget


@dataclass
class Stream:
    """A gateway stream: tops up by ``top_up`` tokens before forwarding beyond its hold."""

    request_id: str
    held: int
    generated: int = 0
    cut: bool = False


async def test_a_cut_stream_overshoots_by_at_most_its_last_chunk(
    make_store: StoreFactory,
) -> None:
    budget, chunk, top_up = 1_000, 50, 100
    store = make_store()
    chain = make_chain(organisation={"budget_tokens": budget})
    streams = [Stream("s1", 200), Stream("s2", 200)]
    for stream in streams:
        assert isinstance(await store.reserve(stream.request_id, chain, tokens(200), T0), Reserved)

    step = 0
    while not all(stream.cut for stream in streams):
        for stream in (s for s in streams if not s.cut):
            step += 1
            stream.generated += chunk  # upstream has produced (and bills) this chunk
            if stream.generated <= stream.held:
                continue
            if await store.top_up(stream.request_id, tokens(top_up), at(step)):
                stream.held += top_up
            else:
                stream.cut = True  # the chunk is not forwarded, but it was generated

    for stream in streams:
        await store.settle(stream.request_id, tokens(stream.generated), at(step + 1))
    committed = (await store.read("org", MONTH, at(step + 2))).committed.tokens
    excess = sum(max(0, stream.generated - stream.held) for stream in streams)
    # The bound of store.py, reached exactly: one chunk per cut stream.
    assert excess == chunk * len(streams)
    assert committed == budget + excess
    # Once committed spend is over budget, nothing more is admitted in the window.
    assert isinstance(await store.reserve("late", chain, tokens(0), at(step + 3)), Refused)


async def test_without_top_ups_the_excess_over_the_hold_is_the_overshoot(
    make_store: StoreFactory,
) -> None:
    store = make_store()
    chain = make_chain(organisation={"budget_tokens": 1_000})
    await store.reserve("r1", chain, tokens(600), T0)
    await store.reserve("r2", chain, tokens(400), T0)
    await store.settle("r1", tokens(630), at(1))
    await store.settle("r2", tokens(400), at(1))
    # r1 outgrew its hold by 30 and never topped up: exactly that much over budget.
    assert (await store.read("org", MONTH, at(2))).committed == tokens(1_000 + 30)
