"""Bring a database to the latest schema with the project's Alembic migrations."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parents[1] / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration for ``database_url`` that needs no ``alembic.ini``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    """Apply every pending migration (idempotent). Call from synchronous code only."""
    command.upgrade(alembic_config(database_url), "head")


async def upgrade_to_head_async(database_url: str) -> None:
    """:func:`upgrade_to_head` from inside a running event loop (runs in a worker thread)."""
    await asyncio.to_thread(upgrade_to_head, database_url)
