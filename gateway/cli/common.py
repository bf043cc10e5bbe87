"""Small pieces shared by the CLI command modules."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import typer

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")


def migrate_database(database_url: str) -> None:
    """Apply pending migrations (Alembic is imported only when a command needs it)."""
    from billing.db.migrate import upgrade_to_head

    upgrade_to_head(database_url)


def run_on_database(
    database_url: str,
    action: Callable[[AsyncEngine], Awaitable[T]],
    *,
    migrate: bool,
    refused: tuple[type[Exception], ...] = (),
) -> T:
    """Run ``action`` on an engine of ``database_url`` (migrated first when ``migrate``); an
    exception of the ``refused`` kinds is the command's error: its message, exit status 1."""
    from billing.db.database import make_engine

    if migrate:
        migrate_database(database_url)

    async def run() -> T:
        engine = make_engine(database_url)
        try:
            return await action(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except refused as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
