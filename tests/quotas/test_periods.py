"""Period rollover in Paris time: midnight, both daylight-saving changes, holds across midnight.

Committed spend goes to the period containing the settle instant; holds count against whichever
period is current while they are live (billing/quotas/store.py, "Which period is charged").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from billing.periods import PeriodKind, period_containing
from billing.quotas import Amount, Refused, Reserved, RollingWindow
from billing.quotas.store import QuotaStore
from tests.quotas.conftest import PARIS, StoreFactory
from tests.quotas.factories import T0, eur, make_chain, tokens

pytestmark = pytest.mark.anyio

SECOND = timedelta(seconds=1)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def daily(budget: int = 1_000) -> list:  # type: ignore[type-arg]
    return make_chain(user={"budget_micro_eur": budget, "period": PeriodKind.DAY})


async def committed_on(store: QuotaStore, kind: PeriodKind, instant: datetime) -> int:
    period = period_containing(kind, instant, PARIS)
    return (await store.read("user-1", period, instant)).committed.micro_eur


async def spend(store: QuotaStore, request_id: str, amount: int, now: datetime) -> None:
    chain = daily(budget=10**9)
    assert isinstance(await store.reserve(request_id, chain, eur(amount), now), Reserved)
    await store.settle(request_id, eur(amount), now)


async def test_a_daily_budget_resets_at_paris_midnight(make_store: StoreFactory) -> None:
    store = make_store()
    midnight = utc(2026, 3, 10, 23)  # 00:00 on 11 March in Paris (UTC+1)
    assert isinstance(await store.reserve("r1", daily(), eur(1_000), midnight - SECOND), Reserved)
    await store.settle("r1", eur(1_000), midnight - SECOND)
    assert isinstance(await store.reserve("r2", daily(), eur(1), midnight - SECOND), Refused)
    assert isinstance(await store.reserve("r2", daily(), eur(1_000), midnight), Reserved)


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        # 29 March 2026 in Paris lasts 23 hours: 2026-03-28T23:00Z to 2026-03-29T22:00Z.
        (utc(2026, 3, 28, 22, 59, 59), "2026-03-28"),
        (utc(2026, 3, 28, 23), "2026-03-29"),
        (utc(2026, 3, 29, 1, 30), "2026-03-29"),  # 03:30 CEST, just after the jump
        (utc(2026, 3, 29, 21, 59, 59), "2026-03-29"),
        (utc(2026, 3, 29, 22), "2026-03-30"),
        # 25 October 2026 lasts 25 hours: 2026-10-24T22:00Z to 2026-10-25T23:00Z.
        (utc(2026, 10, 24, 21, 59, 59), "2026-10-24"),
        (utc(2026, 10, 24, 22), "2026-10-25"),
        (utc(2026, 10, 25, 0, 30), "2026-10-25"),  # 02:30 CEST
        (utc(2026, 10, 25, 1, 30), "2026-10-25"),  # 02:30 CET, the same wall time again
        (utc(2026, 10, 25, 22, 59, 59), "2026-10-25"),
        (utc(2026, 10, 25, 23), "2026-10-26"),
    ],
)
async def test_spend_lands_in_the_paris_day_across_dst_changes(
    make_store: StoreFactory, instant: datetime, day: str
) -> None:
    store = make_store()
    await spend(store, "r1", 123, instant)
    period = period_containing(PeriodKind.DAY, instant, PARIS)
    assert period.key == day
    assert (await store.read("user-1", period, instant)).committed == eur(123)
    for other in (period.start - SECOND, period.end):
        assert await committed_on(store, PeriodKind.DAY, other) == 0


async def test_week_and_month_roll_over_in_paris_time(make_store: StoreFactory) -> None:
    store = make_store()
    week_13 = period_containing(PeriodKind.WEEK, utc(2026, 3, 25), PARIS)
    week_14 = period_containing(PeriodKind.WEEK, utc(2026, 4, 1), PARIS)
    assert (week_13.key, week_14.key) == ("2026-W13", "2026-W14")
    # Sunday 29 March 2026, 23:59:59 CEST is still ISO week 13; a second later is week 14.
    chain = make_chain(user={"period": PeriodKind.WEEK})
    for request_id, amount, now in (("a", 1, week_13.end - SECOND), ("b", 2, week_13.end)):
        await store.reserve(request_id, chain, eur(amount), now)
        await store.settle(request_id, eur(amount), now)
    assert (await store.read("user-1", week_13, week_14.start)).committed == eur(1)
    assert (await store.read("user-1", week_14, week_14.start)).committed == eur(2)

    chain = make_chain(user={"period": PeriodKind.MONTH})
    march_end = utc(2026, 3, 31, 22)  # 00:00 on 1 April, CEST
    for request_id, amount, now in (("m1", 5, march_end - SECOND), ("m2", 7, march_end)):
        await store.reserve(request_id, chain, eur(amount), now)
        await store.settle(request_id, eur(amount), now)
    march = period_containing(PeriodKind.MONTH, march_end - SECOND, PARIS)
    april = period_containing(PeriodKind.MONTH, march_end, PARIS)
    assert (await store.read("user-1", march, march_end)).committed == eur(5)
    assert (await store.read("user-1", april, march_end)).committed == eur(7)


@pytest.mark.parametrize(
    "midnight",
    [utc(2026, 3, 10, 23), utc(2026, 3, 29, 22), utc(2026, 10, 25, 23)],
    ids=["winter", "after-march-dst", "after-october-dst"],
)
async def test_a_hold_across_midnight_is_charged_to_the_day_it_settles(
    make_store: StoreFactory, midnight: datetime
) -> None:
    store = make_store()
    assert isinstance(await store.reserve("long", daily(), eur(800), midnight - SECOND), Reserved)
    # Still held after midnight: the new day has only 200 left.
    assert isinstance(await store.reserve("new-day", daily(), eur(201), midnight), Refused)
    await store.settle("long", eur(700), midnight + 30 * SECOND)
    assert await committed_on(store, PeriodKind.DAY, midnight - SECOND) == 0
    assert await committed_on(store, PeriodKind.DAY, midnight) == 700
    assert isinstance(
        await store.reserve("new-day", daily(), eur(300), midnight + 31 * SECOND), Reserved
    )
    assert isinstance(await store.reserve("more", daily(), eur(1), midnight + 31 * SECOND), Refused)


@pytest.mark.parametrize(
    ("window_s", "still_counted_s", "forgotten_s"), [(60, 60, 61), (3600, 3659, 3660)]
)
async def test_a_rolling_window_forgets_spend_after_n_seconds(
    make_store: StoreFactory, window_s: int, still_counted_s: int, forgotten_s: int
) -> None:
    store = make_store()
    chain = make_chain(key={"budget_tokens": 100, "rolling_window_s": window_s})
    await store.reserve("r1", chain, tokens(100), T0)
    await store.settle("r1", tokens(100), T0)
    window = RollingWindow(window_s)
    # The window counts at least the last N seconds, and less than N + one bucket.
    assert isinstance(
        await store.reserve("r2", chain, tokens(1), T0 + still_counted_s * SECOND), Refused
    )
    assert (await store.read("key-1", window, T0 + still_counted_s * SECOND)).committed == tokens(
        100
    )
    assert isinstance(
        await store.reserve("r2", chain, tokens(100), T0 + forgotten_s * SECOND), Reserved
    )
    assert (await store.read("key-1", window, T0 + forgotten_s * SECOND)).committed == Amount(0, 0)
