"""A database created by the previous release (schema 0005) upgrades without losing data, and
its free-text use cases become registered pilots (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from billing.db.database import make_engine
from billing.db.migrate import alembic_config, upgrade_to_head
from billing.directory import Principal, owner_of_key_hash
from billing.directory.use_cases import list_use_cases
from billing.ledger import repository as ledger
from billing.ledger.record import LedgerRecord
from tests.services import create_postgres_database, drop_postgres_database

AT = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    url, name = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(name)


OLD_ROWS = [
    "INSERT INTO departments (id, name, display_name, created_at) "
    "VALUES (1, 'cardiologie', 'Cardiologie', :at)",
    "INSERT INTO users (id, department_id, username, display_name, role, created_at) "
    "VALUES (1, 1, 'dr.martin', '', 'member', :at)",
    "INSERT INTO api_keys (id, key_hash, display_prefix, user_id, use_case, name, created_at) "
    "VALUES ('key_a', 'hash-a', 'hy-a', 1, 'courriers', 'poste', :at)",
    "INSERT INTO api_keys (id, key_hash, display_prefix, user_id, use_case, name, created_at) "
    "VALUES ('key_b', 'hash-b', 'hy-b', 1, NULL, '', :at)",
    "INSERT INTO ledger (request_id, started_at, finished_at, endpoint, key_id, user_id, "
    "department_id, use_case, status_code, prompt_tokens, completion_tokens, cached_tokens, "
    "tokens_estimated, latency_ms, streamed, client_disconnected, attempts, cost_micro_eur) "
    "VALUES ('r1', :at, :at, 'chat', 'key_a', 1, 1, 'synthèse « ancienne »', 200, 10, 5, 0, "
    "false, 12.5, false, false, 1, 4200)",
]


async def _fill(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            for statement in OLD_ROWS:
                await connection.execute(text(statement), {"at": AT})
    finally:
        await engine.dispose()


async def _read(
    url: str,
) -> tuple[list[tuple[str, str]], LedgerRecord, Principal | None, Principal | None]:
    engine = make_engine(url)
    try:
        register = [(u.name, u.status.value) for u in await list_use_cases(engine)]
        (record,) = await ledger.records_by_id(engine, ["r1"])
        owner_a = await owner_of_key_hash(engine, "hash-a")
        owner_b = await owner_of_key_hash(engine, "hash-b")
    finally:
        await engine.dispose()
    return register, record, owner_a, owner_b


def test_previous_release_database_upgrades_without_losing_data(empty_url: str) -> None:
    command.upgrade(alembic_config(empty_url), "0005")
    asyncio.run(_fill(empty_url))
    upgrade_to_head(empty_url)
    register, record, owner_a, owner_b = asyncio.run(_read(empty_url))
    # Every distinct free-text use case is registered, as a pilot (running, not yet reviewed).
    assert register == [("courriers", "pilot"), ("synthèse « ancienne »", "pilot")]
    assert record.use_case == "synthèse « ancienne »"
    assert record.cost_micro_eur == 4200 and record.use_case_flag is None
    assert owner_a is not None and owner_a.use_case == "courriers"
    assert owner_b is not None and owner_b.use_case is None
    upgrade_to_head(empty_url)  # idempotent
