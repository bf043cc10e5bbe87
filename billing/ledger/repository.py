"""Ledger repository: idempotent inserts and reads of :class:`LedgerRecord` rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Insert, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from billing.db.schema import ledger
from billing.ledger import rollups
from billing.ledger.record import LedgerRecord


def _insert_ignoring_duplicates(dialect: str) -> Insert:
    # Idempotent by request id: a batch replayed from the journal after a partial failure must
    # never create a second record for a request.
    from sqlalchemy.dialects import postgresql, sqlite  # only the dialect in use is loaded

    if dialect == "postgresql":
        return postgresql.insert(ledger).on_conflict_do_nothing(index_elements=["request_id"])
    if dialect == "sqlite":
        return sqlite.insert(ledger).on_conflict_do_nothing(index_elements=["request_id"])
    raise ValueError(f"unsupported database dialect {dialect!r}")


async def insert_records(engine: AsyncEngine, records: Sequence[LedgerRecord]) -> None:
    """Store ``records`` in one transaction; records already stored are left untouched.

    The daily rollups are updated in the same transaction with the records it really
    inserted, so they never count a replayed record twice nor miss one.
    """
    if not records:
        return
    statement = _insert_ignoring_duplicates(engine.dialect.name).returning(ledger.c.request_id)
    async with engine.begin() as connection:
        result = await connection.execute(statement, [record.as_row() for record in records])
        inserted = set(result.scalars())
        await rollups.add_records(connection, _first_of_each(records, inserted))


def _first_of_each(records: Sequence[LedgerRecord], ids: set[str]) -> list[LedgerRecord]:
    # A request id twice in one batch is stored once, from its first occurrence.
    kept = []
    for record in records:
        if record.request_id in ids:
            ids.discard(record.request_id)
            kept.append(record)
    return kept


async def check_reachable(engine: AsyncEngine) -> None:
    """Raise unless the ledger table can be queried now (tells an outage from a bad record)."""
    async with engine.connect() as connection:
        await connection.execute(select(ledger.c.request_id).limit(0))


def _as_utc(value: datetime) -> datetime:
    # SQLite returns naive datetimes; everything the gateway writes is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def record_from_row(row: Any) -> LedgerRecord:
    values = dict(row._mapping)
    values["started_at"] = _as_utc(values["started_at"])
    values["finished_at"] = _as_utc(values["finished_at"])
    return LedgerRecord(**values)


async def recent_records(engine: AsyncEngine, *, limit: int = 50) -> list[LedgerRecord]:
    """The ``limit`` most recent records, newest first."""
    query = select(ledger).order_by(ledger.c.started_at.desc()).limit(limit)
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [record_from_row(row) for row in rows]


async def records_by_id(engine: AsyncEngine, request_ids: Sequence[str]) -> list[LedgerRecord]:
    """The records of the given request ids (in no particular order)."""
    query = select(ledger).where(ledger.c.request_id.in_(list(request_ids)))
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [record_from_row(row) for row in rows]


async def count_records(engine: AsyncEngine) -> int:
    """How many records the ledger holds."""
    async with engine.connect() as connection:
        return int(
            (await connection.execute(select(func.count()).select_from(ledger))).scalar_one()
        )
