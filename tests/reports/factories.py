"""Factories with keyword defaults for the reports suite: a cost model, ledger rows, a directory.

The cost model is the worked example of ``billing/COST_MODEL.md``: pool ``h100-a`` of 8 GPUs
at 2.30 EUR per GPU-hour, a shared deployment ``ms-onprem`` (2 GPUs, 2,000 weighted tokens per
GPU-second, 50 % target utilisation, so 2.30 / 3.6e9 EUR per weighted token) and ``radio-onprem``
(2 GPUs dedicated to radiologie), plus an external model ``mistral-medium`` on ``mm-cloud``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from billing import directory
from billing.db.database import make_engine
from billing.db.schema import ledger
from billing.ledger.record import LedgerRecord
from billing.ledger.repository import insert_records
from billing.pricing.cost_config import CatalogDeployment, CostConfig, build_costing
from billing.pricing.costing import Costing
from billing.usage import Usage

PARIS = ZoneInfo("Europe/Paris")
T = TypeVar("T")

POOL = {
    "gpu_count": 8,
    "hardware_eur": "350640",
    "amortisation_years": "5",
    "watts_per_gpu": "1000",
    "pue": "1.5",
    "eur_per_kwh": "0.20",
    "hosting_eur_per_month": "1753.20",
    "staff_eur_per_month": "4090.80",
}

CATALOG_VIEW = (
    CatalogDeployment("mistral-small", "ms-onprem", "vllm", "on_premise", "h100-a", 2),
    CatalogDeployment("radio-llm", "radio-onprem", "vllm", "on_premise", "h100-a", 2),
    CatalogDeployment("mistral-medium", "mm-cloud", "litellm", "eu_cloud", provider="mistral"),
    CatalogDeployment("gpt-4o-mini", "azure-4o", "litellm", "non_eu", provider="azure"),
)


def make_cost_config(**overrides: Any) -> CostConfig:
    """The worked example's cost section; keywords replace top-level keys."""
    values: dict[str, Any] = {
        "fx_to_eur": {"USD": "0.92"},
        "organisation": {"name": "CHU Exemple", "billing_account_id": "chu-exemple"},
        "pools": {"h100-a": POOL},
        "deployments": {
            "ms-onprem": {"capacity": "2000", "target_utilisation": "0.5"},
            "radio-onprem": {
                "capacity": "2000",
                "target_utilisation": "0.5",
                "dedicated_to": "radiologie",
            },
        },
        "prices": {
            "mistral-medium": [
                {"input": "0.4", "output": "2", "effective_from": "2026-01-01"},
                {
                    "input": "0.5",
                    "cached_input": "0.1",
                    "output": "2.5",
                    "effective_from": "2026-03-15",
                },
            ],
            "gpt-4o-mini": {
                "input": "0.15",
                "output": "0.6",
                "currency": "USD",
                "effective_from": "2025-01-01",
            },
        },
    }
    values.update(overrides)
    return CostConfig.model_validate(values)


def make_costing(**overrides: Any) -> Costing:
    return build_costing(make_cost_config(**overrides), CATALOG_VIEW, tz=PARIS)


def utc(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


_ids = itertools.count()


def make_record(
    *,
    started_at: datetime,
    department_id: int | None = None,
    user_id: int | None = None,
    model: str | None = "mistral-medium",
    deployment: str | None = "mm-cloud",
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    cached_tokens: int = 0,
    cost_micro_eur: int | None = None,
    price_version: str | None = None,
    status_code: int = 200,
    use_case: str | None = None,
    costing: Costing | None = None,
) -> LedgerRecord:
    """A ledger row; with ``costing``, priced as the gateway prices a request that ends."""
    fx_rate = None
    if costing is not None:
        usage = Usage(prompt_tokens, completion_tokens, cached_tokens)
        cost = costing.price_request(model, deployment, usage, started_at)
        cost_micro_eur, price_version = cost.micro_eur, cost.version
        fx_rate = None if cost.fx_rate is None else str(cost.fx_rate)
    return LedgerRecord(
        request_id=f"req-{next(_ids):08d}",
        started_at=started_at,
        finished_at=started_at,
        endpoint="chat",
        status_code=status_code,
        latency_ms=10.0,
        department_id=department_id,
        user_id=user_id,
        use_case=use_case,
        model=model,
        deployment=deployment,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cached_tokens=cached_tokens,
        cost_micro_eur=cost_micro_eur,
        price_version=price_version,
        fx_rate=fx_rate,
    )


async def make_directory(
    engine: AsyncEngine, departments: dict[str, Sequence[str]]
) -> tuple[dict[str, int], dict[str, int]]:
    """Departments and their users; returns (department name -> id, username -> id)."""
    dept_ids: dict[str, int] = {}
    user_ids: dict[str, int] = {}
    for name, usernames in departments.items():
        dept = await directory.create_department(engine, name, display_name=name.title())
        dept_ids[name] = dept.id
        for username in usernames:
            user_ids[username] = (await directory.create_user(engine, username, department=name)).id
    return dept_ids, user_ids


def run(database_url: str, scenario: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Run ``scenario`` on an engine of ``database_url``, disposed of afterwards."""

    async def main() -> T:
        engine = make_engine(database_url)
        try:
            return await scenario(engine)
        finally:
            await engine.dispose()

    return asyncio.run(main())


async def seed(engine: AsyncEngine, records: Sequence[LedgerRecord]) -> None:
    await insert_records(engine, list(records))


async def ledger_cost(engine: AsyncEngine, start: datetime, end: datetime) -> int:
    """Sum of cost_micro_eur between two instants, straight from the table."""
    query = select(func.coalesce(func.sum(ledger.c.cost_micro_eur), 0)).where(
        ledger.c.started_at >= start, ledger.c.started_at < end
    )
    async with engine.connect() as connection:
        return int((await connection.execute(query)).scalar_one())


async def seed_january(engine: AsyncEngine, costing: Costing) -> None:
    """The month of COST_MODEL.md, plus one external request and two free ones."""
    depts, users = await make_directory(
        engine, {"cardiologie": ["alice"], "urgences": ["carol"], "radiologie": ["rita"]}
    )

    def row(dept: str, user: str, **kwargs: Any) -> Any:
        return make_record(
            department_id=depts[dept], user_id=users[user], costing=costing, **kwargs
        )

    onprem: dict[str, Any] = {"model": "mistral-small", "deployment": "ms-onprem"}
    await seed(
        engine,
        [
            # 1.125e9 output tokens x weight 4 = 4.5e9 weighted tokens -> 2,875.00 EUR.
            row("cardiologie", "alice", started_at=utc(2026, 1, 5), completion_tokens=1_125_000_000,
                **onprem),
            # 2.7e9 weighted tokens -> 1,725.00 EUR.
            row("urgences", "carol", started_at=utc(2026, 1, 6), completion_tokens=675_000_000,
                **onprem),
            # Dedicated GPUs: nothing per request.
            row("radiologie", "rita", started_at=utc(2026, 1, 7), prompt_tokens=1000,
                model="radio-llm", deployment="radio-onprem"),
            # External: 800,000 x 0.4 + 200,000 x 0.4 + 100,000 x 2 micro-euros = 0.60 EUR.
            row("cardiologie", "alice", started_at=utc(2026, 1, 8), prompt_tokens=1_000_000,
                cached_tokens=200_000, completion_tokens=100_000),
            # Unknown model: unpriced.
            row("urgences", "carol", started_at=utc(2026, 1, 9), prompt_tokens=10, model="old",
                deployment="gone"),
        ],
    )  # fmt: skip
