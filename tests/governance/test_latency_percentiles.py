"""p50 and p95 latency per use case, from the ledger's histogram, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from billing.db.database import make_engine
from billing.monitoring.latency import BOUNDS_MS, Percentiles, latency_percentiles, percentile
from billing.monitoring.use_case_health import weekly_figures
from tests.governance.factories import make_record, store

NOW = datetime(2026, 12, 9, 12, tzinfo=UTC)
BUCKET_RATIO = BOUNDS_MS[1] / BOUNDS_MS[0]


def test_percentiles_are_never_below_the_exact_value_and_at_most_one_bucket_above(
    database_url: str,
) -> None:
    # cr: 1..1000 ms; triage: 99 fast requests and one very slow one.
    records = [make_record(use_case="cr", at=NOW, latency_ms=float(ms)) for ms in range(1, 1001)]
    records += [make_record(use_case="triage", at=NOW, latency_ms=20.0) for _ in range(99)]
    records += [make_record(use_case="triage", at=NOW, latency_ms=90_000.0)]
    records += [make_record(use_case=None, at=NOW - timedelta(days=30), latency_ms=5.0)]

    async def run() -> tuple[dict[str, Percentiles], dict[str, Any]]:
        engine = make_engine(database_url)
        try:
            await store(engine, records)
            found = await latency_percentiles(engine, NOW - timedelta(days=1), NOW + timedelta(1))
            weeks = await weekly_figures(engine, NOW, ZoneInfo("Europe/Paris"), weeks=1)
        finally:
            await engine.dispose()
        return dict(found), weeks["cr"][-1].as_dict()

    found, week = asyncio.run(run())
    cr, triage = found["cr"], found["triage"]
    assert set(found) == {"cr", "triage"}  # the old request is outside the period
    assert 500 <= cr.p50_ms <= 500 * BUCKET_RATIO
    assert 950 <= cr.p95_ms <= 1000  # capped by the largest
    assert 20 <= triage.p50_ms <= 20 * BUCKET_RATIO
    assert triage.p95_ms == triage.p50_ms  # one outlier in 100
    assert week["requests"] == 1000 and week["p50_latency_ms"] >= 500
    assert week["p95_latency_ms"] >= 950 and week["max_latency_ms"] == 1000.0


def test_an_empty_histogram_has_zero_percentiles() -> None:
    assert percentile({}, 0.95, 0.0) == 0.0
    assert percentile({0: 1}, 0.5, 0.4) == 0.4  # capped by the largest latency seen
