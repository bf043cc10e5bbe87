"""Reaching the real PostgreSQL and Redis servers from tests.

With ``CI=true`` an unreachable server fails the test (CI must never silently skip them);
elsewhere the test is skipped with the reason shown.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket

import pytest

POSTGRES_HOST = os.environ.get("HYGIE_TEST_POSTGRES_HOST", "127.0.0.1")
POSTGRES_PORT = int(os.environ.get("HYGIE_TEST_POSTGRES_PORT", "5432"))
POSTGRES_ADMIN_DB = os.environ.get("HYGIE_TEST_POSTGRES_DB", "test")
POSTGRES_USER = os.environ.get("HYGIE_TEST_POSTGRES_USER", "postgres")
REDIS_HOST = os.environ.get("HYGIE_TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("HYGIE_TEST_REDIS_PORT", "6379"))


def unavailable(what: str) -> None:
    """Fail under CI, skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required under CI but is not reachable", pytrace=False)
    pytest.skip(f"{what} not reachable; start it to run this test")


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


async def _admin_execute(statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(
        host=POSTGRES_HOST, port=POSTGRES_PORT, user=POSTGRES_USER, database=POSTGRES_ADMIN_DB
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def create_postgres_database(template: str | None = None) -> tuple[str, str]:
    """A fresh database, empty or a copy of ``template``; returns (SQLAlchemy URL, name).

    A template must have no open connection while it is copied (PostgreSQL refuses otherwise).
    """
    if not reachable(POSTGRES_HOST, POSTGRES_PORT):
        unavailable(f"PostgreSQL at {POSTGRES_HOST}:{POSTGRES_PORT}")
    name = "hygie_t_" + secrets.token_hex(4)
    copy = f' TEMPLATE "{template}"' if template else ""
    asyncio.run(_admin_execute(f'CREATE DATABASE "{name}"{copy}'))
    url = f"postgresql+asyncpg://{POSTGRES_USER}@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}"
    return url, name


def drop_postgres_database(name: str) -> None:
    asyncio.run(_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def redis_url(db: int = 15) -> str:
    if not reachable(REDIS_HOST, REDIS_PORT):
        unavailable(f"Redis at {REDIS_HOST}:{REDIS_PORT}")
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}"
