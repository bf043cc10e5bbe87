"""Helpers of the audit tests: reading the trail, and tampering with it as an intruder would."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from billing import audit
from billing.audit import Actor, AuditEntry, ChainHead, Verification
from billing.audit.entry import entry_hash
from billing.db.database import make_engine
from billing.db.schema import audit_chain_head, audit_log

T = TypeVar("T")
ALICE = Actor("alice", "admin")


def on_engine(url: str, action: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = make_engine(url)
        try:
            return await action(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def entries(url: str, **filters: Any) -> list[AuditEntry]:
    """The trail, oldest first."""
    found = on_engine(url, lambda e: audit.list_entries(e, limit=10_000, **filters))
    return list(reversed(found))


def verify(url: str, copy: ChainHead | None = None) -> Verification:
    return on_engine(url, lambda e: audit.verify_chain(e, copy=copy))


def append_many(url: str, count: int, *, actor: Actor = ALICE) -> None:
    async def fill(engine: AsyncEngine) -> None:
        for n in range(count):
            await audit.append(
                engine, actor, "department.create", f"dept-{n}", after={"name": f"dept-{n}"}
            )

    on_engine(url, fill)


def execute(url: str, *statements: Any) -> None:
    async def run(engine: AsyncEngine) -> None:
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(statement)

    on_engine(url, run)


def edit(url: str, seq: int, **values: Any) -> None:
    execute(url, update(audit_log).where(audit_log.c.seq == seq).values(**values))


def remove(url: str, seq: int) -> None:
    execute(url, delete(audit_log).where(audit_log.c.seq == seq))


def rewrite_from(url: str, seq: int, **values: Any) -> None:
    """A careful intruder: change entry ``seq`` and recompute every hash after it, and the head."""

    async def run(engine: AsyncEngine) -> None:
        async with engine.begin() as connection:
            rows = (
                await connection.execute(
                    select(audit_log).where(audit_log.c.seq >= seq).order_by(audit_log.c.seq)
                )
            ).all()
            prev = (
                await connection.execute(select(audit_log.c.hash).where(audit_log.c.seq == seq - 1))
            ).scalar_one_or_none() or audit.GENESIS_HASH
            for row in rows:
                fields = {
                    name: getattr(row, name)
                    for name in (
                        "seq", "at", "actor", "actor_role", "action", "target",
                        "department", "before", "after", "reason",
                    )
                }  # fmt: skip
                if row.seq == seq:
                    fields |= values
                digest = entry_hash(**fields, prev_hash=prev)
                await connection.execute(
                    update(audit_log)
                    .where(audit_log.c.seq == row.seq)
                    .values(**fields, prev_hash=prev, hash=digest)
                )
                prev = digest
            await connection.execute(update(audit_chain_head).values(hash=prev))

    on_engine(url, run)
