"""An admin change and its audit entry, in one transaction: both land or neither does.

    async with audited_change(engine, actor, "department.create", name, reason=why) as change:
        dept = await directory.create_department(change.connection, name)
        change.after = asdict(dept)

The chain's head is locked when the block starts, so concurrent changes queue one behind the
other (on SQLite this takes the write lock before the change reads anything, which avoids
"database is locked" upgrades). An exception in the block, or a failure to write the entry,
rolls the change back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from billing.audit.entry import Actor, AuditEntry
from billing.audit.log import anchor_month, clean_reason, take_head, write_entry


@dataclass(slots=True)
class Change:
    """The change under way: write through ``connection``; fill in what is known only after."""

    connection: AsyncConnection
    target: str
    before: Any = None
    after: Any = None
    department: str | None = None
    anchor_month: str | None = None
    """A month (``YYYY-MM``) closed by this change: the head, this entry included, is its anchor."""
    entry: AuditEntry | None = None
    """The entry written, once the block has ended."""


@asynccontextmanager
async def audited_change(
    engine: AsyncEngine,
    actor: Actor,
    action: str,
    target: str,
    *,
    before: Any = None,
    after: Any = None,
    department: str | None = None,
    reason: str | None = None,
) -> AsyncIterator[Change]:
    """A transaction for one change; its entry is appended just before the commit."""
    why = clean_reason(reason)  # an unstorable reason fails before anything is changed
    async with engine.begin() as connection:
        head = await take_head(connection)
        change = Change(connection, target, before, after, department)
        yield change
        change.entry = await write_entry(
            connection,
            head,
            actor,
            action,
            change.target,
            change.before,
            change.after,
            change.department,
            why,
        )
        if change.anchor_month is not None:
            await anchor_month(connection, change.anchor_month)
