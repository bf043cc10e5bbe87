"""Budget threshold alerts: stored once, listed by the admin API, delivered to a webhook.

Delivery retries with exponential backoff (2 s, 4 s, 8 s, … up to ``max_attempts``); an alert
that could not be delivered stays listed with its last error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from billing.limits import repo
from billing.monitoring.drift_alerts import DRIFT_LEVEL, store_drifts
from billing.monitoring.use_case_health import Drift, drifts, weekly_figures
from billing.quotas import ThresholdCrossed
from gateway.settings import Settings
from gateway.supervisor import start_supervised

log = logging.getLogger("hygie.alerts")

# The webhook's ``type`` of alerts that are not budget thresholds, by their stored level.
_TYPES = {DRIFT_LEVEL: "hygie.use_case_drift"}


class AlertCenter:
    """Stores threshold crossings and pushes them to the configured webhook."""

    def __init__(
        self,
        engine: AsyncEngine,
        session: aiohttp.ClientSession,
        *,
        webhook_url: str | None,
        label_of: Callable[[str], str] = str,
        max_attempts: int = 8,
        base_delay_s: float = 2.0,
    ) -> None:
        self._engine = engine
        self._session = session
        self._url = webhook_url
        self._label_of = label_of
        self._max_attempts = max_attempts
        self._base_delay_s = base_delay_s
        self._next_try: dict[int, float] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._drift_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._url:
            self._task = start_supervised("alert-webhook", self._deliver_forever)

    async def close(self) -> None:
        for task in (self._task, self._drift_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def watch_drift(self, settings: Settings) -> None:
        """Check use cases for drift every ``drift_check_interval_s`` (from the first minute)."""

        async def loop() -> None:
            while True:
                await asyncio.sleep(min(60.0, settings.drift_check_interval_s))
                try:
                    await self.check_drift(datetime.now(UTC), settings)
                except SQLAlchemyError as exc:
                    log.warning("drift check postponed: %s", type(exc).__name__)
                await asyncio.sleep(max(0.0, settings.drift_check_interval_s - 60.0))

        self._drift_task = start_supervised("use-case-drift", loop)

    async def publish(self, events: Sequence[ThresholdCrossed]) -> None:
        """Store ``events`` (duplicates ignored) and wake the webhook sender."""
        try:
            labels = {event.node_id: self._label_of(event.node_id) for event in events}
            await repo.store_alerts(self._engine, events, labels)
        except SQLAlchemyError as exc:
            log.error("could not store %d budget alerts: %s", len(events), type(exc).__name__)
            return
        for event in events:
            log.warning(
                "budget threshold %d%% reached: %s (%s, period %s)",
                event.threshold_pct,
                self._label_of(event.node_id),
                event.unit.value,
                event.period_key,
            )
        self._wake.set()

    async def check_drift(self, now: datetime, settings: Settings) -> list[Drift]:
        """Compare every use case's rates with last week's; store and send the new drifts."""
        figures = await weekly_figures(self._engine, now, ZoneInfo(settings.org_timezone), weeks=2)
        found = drifts(
            figures, ratio=settings.drift_ratio, min_requests=settings.drift_min_requests
        )
        if await store_drifts(self._engine, found, ratio=settings.drift_ratio):
            for drift in found:
                log.warning(
                    "use case %s drifts: %s %.2f%% this week, %.2f%% the week before",
                    drift.use_case,
                    drift.metric,
                    drift.current * 100,
                    drift.previous * 100,
                )
            self._wake.set()
        return found

    async def deliver_pending(self) -> int:
        """Try every undelivered alert whose retry time has come; returns how many succeeded."""
        assert self._url is not None
        delivered = 0
        now = time.monotonic()
        for alert in await repo.undelivered_alerts(self._engine, max_attempts=self._max_attempts):
            if self._next_try.get(alert.id, 0.0) > now:
                continue
            payload = {
                "type": _TYPES.get(alert.level, "hygie.budget_threshold"),
                "alert_id": alert.id,
                "node": alert.label,
                "level": alert.level,
                "threshold_pct": alert.threshold_pct,
                "period": alert.period_key,
                "unit": alert.unit,
                "spent": alert.spent,
                "budget": alert.budget,
                "created_at": alert.created_at.isoformat(),
            }
            error = await self._post(payload)
            await repo.mark_delivery(self._engine, alert.id, error=error)
            if error is None:
                delivered += 1
                self._next_try.pop(alert.id, None)
            else:
                delay = self._base_delay_s * 2**alert.delivery_attempts
                self._next_try[alert.id] = now + delay
        return delivered

    async def _post(self, payload: dict[str, object]) -> str | None:
        assert self._url is not None
        try:
            async with self._session.post(
                self._url, json=payload, timeout=aiohttp.ClientTimeout(total=10)
            ) as response:
                if response.status < 300:
                    return None
                return f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            return type(exc).__name__

    async def _deliver_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._base_delay_s)
            self._wake.clear()
            try:
                await self.deliver_pending()
            except SQLAlchemyError as exc:
                log.warning("alert delivery postponed: %s", type(exc).__name__)
