"""Drift of a use case's behaviour raises one alert a week through the alert channel."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from billing.db.database import make_engine
from billing.ledger.record import LedgerRecord
from billing.limits import repo
from billing.limits.nodes import department_of_node
from billing.monitoring.use_case_health import week_start, weekly_figures
from gateway.alerts import AlertCenter
from gateway.http.local_server import BackgroundServer
from gateway.settings import Settings
from tests.governance.factories import make_record, store

PARIS = ZoneInfo("Europe/Paris")


def _week(start: datetime, *, requests: int, errors: int, refusals: int) -> list[LedgerRecord]:
    at = start + timedelta(hours=1)
    ok = requests - errors - refusals
    return [
        *(make_record(at=at) for _ in range(ok)),
        *(make_record(at=at, status_code=502, error_class="upstream_error") for _ in range(errors)),
        *(
            make_record(at=at, status_code=403, error_class="use_case_refused")
            for _ in range(refusals)
        ),
    ]


async def _scenario(url: str, hook_url: str) -> tuple[list[str], list[str], dict[str, object]]:
    engine = make_engine(url)
    now = datetime.now(UTC)
    this_week = week_start(now, PARIS)
    last_week = this_week - timedelta(days=7)
    records = [
        *_week(last_week, requests=100, errors=2, refusals=5),
        *_week(this_week, requests=100, errors=5, refusals=6),  # errors x2.5, refusals x1.2
    ]
    await store(engine, records)
    settings = Settings(drift_min_requests=50, drift_ratio=2.0)
    try:
        async with aiohttp.ClientSession() as session:
            center = AlertCenter(engine, session, webhook_url=hook_url)
            first = await center.check_drift(now, settings)
            again = await center.check_drift(now, settings)
            assert await center.deliver_pending() == 1
        alerts = await repo.list_alerts(engine)
        # Listed by /admin/alerts as organisation-wide (administrators and finance see it).
        assert await department_of_node(engine, alerts[0].node_id) is None
        figures = await weekly_figures(engine, now, PARIS, weeks=2)
    finally:
        await engine.dispose()
    stored = [f"{a.level}:{a.label}:{a.unit}:{a.spent}/{a.budget}" for a in alerts]
    weeks = figures["cr"][-1].as_dict()
    return [f"{d.use_case}:{d.metric}" for d in first + again], stored, weeks


def test_an_error_rate_that_doubles_week_on_week_raises_one_alert(database_url: str) -> None:
    received: list[dict[str, Any]] = []

    async def hook(request: Request) -> Response:
        received.append(await request.json())
        return Response(status_code=204)

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    with BackgroundServer(app) as server:
        found, stored, latest = asyncio.run(_scenario(database_url, f"{server.url}/hook"))
    assert [(r["type"], r["node"], r["unit"]) for r in received] == [
        ("hygie.use_case_drift", "cr", "error_rate")
    ]
    assert found == ["cr:error_rate", "cr:error_rate"]  # found twice, stored once
    assert stored == ["drift:cr:error_rate:500/200"]  # rates in basis points
    assert latest["requests"] == 100 and latest["error_rate"] == 0.05
    assert latest["refusal_rate"] == 0.06
