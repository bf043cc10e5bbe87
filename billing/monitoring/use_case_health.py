"""A use case's behaviour week by week (volume, error and refusal rates, latency: mean, p50
and p95 from the ledger's latency histogram, max), and the drift rule: a rate that grows
``ratio`` times week on week raises an alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from billing.ledger.use_case_traffic import Traffic, traffic_by_use_case
from billing.monitoring.latency import Percentiles, latency_percentiles

WEEK = timedelta(days=7)
NO_LATENCY = Percentiles(0.0, 0.0)


@dataclass(frozen=True, slots=True)
class WeekFigures:
    week: str  # ISO week of its first day in the organisation's time zone: 2026-W49
    start: datetime
    traffic: Traffic
    latency: Percentiles = NO_LATENCY

    def as_dict(self) -> dict[str, Any]:
        t = self.traffic
        return {
            "week": self.week,
            "start": self.start.isoformat(),
            "requests": t.requests,
            "error_rate": round(t.error_rate, 4),
            "refusal_rate": round(t.refusal_rate, 4),
            "mean_latency_ms": round(t.mean_latency_ms, 1),
            "p50_latency_ms": round(self.latency.p50_ms, 1),
            "p95_latency_ms": round(self.latency.p95_ms, 1),
            "max_latency_ms": round(t.latency_ms_max, 1),
        }


@dataclass(frozen=True, slots=True)
class Drift:
    """A rate of ``use_case`` that grew past the threshold from one week to the next."""

    use_case: str
    metric: str  # "error_rate" or "refusal_rate"
    week: str
    previous: float
    current: float


def week_start(instant: datetime, tz: ZoneInfo) -> datetime:
    """Monday 00:00 (local) of the week holding ``instant``, as an aware datetime."""
    local = instant.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=tz)


def _week_key(start: datetime) -> str:
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}"


async def weekly_figures(
    engine: AsyncEngine, now: datetime, tz: ZoneInfo, *, weeks: int
) -> dict[str, list[WeekFigures]]:
    """Every use case's figures for the last ``weeks`` weeks (the current one included),
    oldest first; a week without traffic has zero figures."""
    current = week_start(now, tz)
    starts = [current - WEEK * back for back in range(weeks - 1, -1, -1)]
    per_week = [await traffic_by_use_case(engine, s, s + WEEK) for s in starts]
    latencies = [await latency_percentiles(engine, s, s + WEEK) for s in starts]
    names = sorted({name for traffic in per_week for name in traffic})
    return {
        name: [
            WeekFigures(
                _week_key(s), s, traffic.get(name, Traffic()), latency.get(name, NO_LATENCY)
            )
            for s, traffic, latency in zip(starts, per_week, latencies, strict=True)
        ]
        for name in names
    }


def drifts(
    figures: dict[str, list[WeekFigures]], *, ratio: float, min_requests: int
) -> list[Drift]:
    """Rates of the latest week that are ``ratio`` times (or more) those of the week before.

    Both weeks need ``min_requests`` requests, so that two errors in a quiet week raise
    nothing. A rate rising from zero counts as drift once it is at least 1 %.
    """
    found = []
    for name, weeks in figures.items():
        if len(weeks) < 2:
            continue
        before, latest = weeks[-2], weeks[-1]
        if min(before.traffic.requests, latest.traffic.requests) < min_requests:
            continue
        for metric in ("error_rate", "refusal_rate"):
            previous = getattr(before.traffic, metric)
            current = getattr(latest.traffic, metric)
            threshold = previous * ratio if previous else 0.01
            if current >= threshold and current > previous:
                found.append(Drift(name, metric, latest.week, previous, current))
    return found
