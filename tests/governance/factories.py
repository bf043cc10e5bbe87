"""Factories for governance tests: use cases and ledger records with keyword defaults."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from billing.directory.use_cases import UseCase, register_use_case
from billing.ledger import repository as ledger
from billing.ledger.record import LedgerRecord
from policies.governance.register import Lifecycle


async def make_use_case(
    engine: AsyncEngine, name: str, *, status: Lifecycle = Lifecycle.PRODUCTION, **fields: Any
) -> UseCase:
    return await register_use_case(engine, UseCase(name, status=status, **fields))


def make_record(
    *,
    use_case: str | None = "cr",
    at: datetime | None = None,
    status_code: int = 200,
    error_class: str | None = None,
    data_class: str | None = "health",
    cost_micro_eur: int = 1_000,
    latency_ms: float = 100.0,
    model: str = "llama",
    deployment: str = "sim",
    **fields: Any,
) -> LedgerRecord:
    started = at or datetime.now(UTC)
    return LedgerRecord(
        request_id=uuid.uuid4().hex,
        started_at=started,
        finished_at=started + timedelta(milliseconds=latency_ms),
        endpoint="chat",
        status_code=status_code,
        latency_ms=latency_ms,
        use_case=use_case,
        model=model,
        deployment=deployment,
        error_class=error_class,
        data_class=data_class,
        prompt_tokens=10,
        completion_tokens=5,
        cost_micro_eur=cost_micro_eur,
        **fields,
    )


async def store(engine: AsyncEngine, records: list[LedgerRecord]) -> None:
    await ledger.insert_records(engine, records)
