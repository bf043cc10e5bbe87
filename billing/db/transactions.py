"""Repositories take an engine or a connection, so a caller can group several writes.

Given an engine, a repository function runs in a transaction of its own; given a connection,
it runs in the caller's transaction, which the caller commits or rolls back (an admin change
and its audit entry are written that way, together or not at all).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

Database = AsyncEngine | AsyncConnection


@asynccontextmanager
async def writing(db: Database) -> AsyncIterator[AsyncConnection]:
    """A connection in a transaction: the caller's, or a new one committed on success."""
    if isinstance(db, AsyncConnection):
        yield db
        return
    async with db.begin() as connection:
        yield connection


@asynccontextmanager
async def reading(db: Database) -> AsyncIterator[AsyncConnection]:
    """A connection to read with: the caller's (seeing its uncommitted writes), or a new one."""
    if isinstance(db, AsyncConnection):
        yield db
        return
    async with db.connect() as connection:
        yield connection
