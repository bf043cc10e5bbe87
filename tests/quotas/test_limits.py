"""Validation of amounts and limits, and the GCRA arithmetic both backends share."""

from __future__ import annotations

import pytest

from billing.periods import PeriodKind
from billing.quotas import Amount, Level, MemoryQuotaStore, NodeLimits, RollingWindow
from billing.quotas.gcra import gcra_check
from tests.quotas.factories import T0, make_node

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("micro_eur", "count", "error"),
    [(-1, 0, ValueError), (0, -1, ValueError), (10**14, 0, ValueError), (1.5, 0, TypeError)],
)
def test_amounts_are_bounded_integers(micro_eur: object, count: object, error: type) -> None:
    with pytest.raises(error):
        Amount(micro_eur, count)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"budget_micro_eur": 10},  # a budget needs a window
        {"budget_tokens": 1, "period": PeriodKind.DAY, "rolling_window_s": 60},
        {"rpm": 0},
        {"max_concurrent": -1},
        {"thresholds_pct": (80, 50)},
        {"thresholds_pct": (0,)},
    ],
)
def test_inconsistent_limits_are_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        NodeLimits("team", Level.TEAM, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("node_id", ["", "a{b}", "with space", "x" * 201])
def test_node_ids_must_fit_in_a_redis_key(node_id: str) -> None:
    with pytest.raises(ValueError):
        NodeLimits(node_id, Level.KEY)


async def test_a_chain_must_name_each_node_once() -> None:
    store = MemoryQuotaStore()
    with pytest.raises(ValueError):
        await store.reserve("r", [make_node("a"), make_node("a")], Amount(1, 1), T0)
    with pytest.raises(ValueError):
        await store.reserve("r", [], Amount(1, 1), T0)


def test_gcra_admits_at_most_a_burst_plus_the_rate() -> None:
    limit, tat = 30, 0.0
    admitted: list[int] = []
    # One attempt every 100 ms for 3 minutes.
    for now in range(0, 180_000_000, 100_000):
        check = gcra_check(tat, now, limit, 1)
        if check.allowed:
            tat = check.tat_us
            admitted.append(now)
    for start in range(0, 180_000_000, 1_000_000):
        for length_s in (1, 30, 60, 120):
            inside = [t for t in admitted if start <= t < start + length_s * 1_000_000]
            assert len(inside) <= limit + limit * length_s / 60
    # Over the whole run: the burst, then the sustained rate (never less than the rate alone).
    assert limit * 3 <= len(admitted) <= limit + limit * 3


def test_gcra_retry_after_is_exact_and_bounded() -> None:
    full = gcra_check(0.0, 0, 10, 10)
    assert (full.allowed, full.remaining, full.reset_s) == (True, 0, 60)
    refused = gcra_check(full.tat_us, 0, 10, 1)
    assert (refused.allowed, refused.retry_after_s) == (False, 6)
    assert gcra_check(full.tat_us, 6_000_000, 10, 1).allowed
    assert gcra_check(0.0, 0, 10, 11).retry_after_s == 60


def test_rolling_window_buckets_cover_at_least_the_window() -> None:
    for seconds in (1, 59, 60, 61, 3600, 86_400, 7 * 86_400):
        window = RollingWindow(seconds)
        assert (window.bucket_count - 1) * window.bucket_s >= seconds
        assert window.bucket_count <= 62
