"""Shared fixtures: real servers on real ports (simulated vLLM, the gateway), real databases."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from billing.db.database import make_engine
from billing.db.migrate import upgrade_to_head
from billing.directory import DirectoryError
from billing.directory.use_cases import UseCase, find_use_case, register_use_case
from billing.ledger import repository as ledger
from billing.ledger.record import LedgerRecord
from gateway.app import create_app
from gateway.catalog import Catalog, parse_catalog
from gateway.http.local_server import BackgroundServer
from gateway.settings import Settings
from gateway.steps.key_issuing import issue_key
from hygie_simulator import SimulatorConfig, create_simulator_app
from policies.governance.register import Lifecycle
from tests.polling import wait_until
from tests.services import create_postgres_database, drop_postgres_database

CHAT_MODEL = "llama-3-8b"
EMBEDDING_MODEL = "bge-m3"
HEALTH_CLEARED = {
    "class": "on_premise",
    "cleared_for": ["public", "internal", "personal", "health"],
    "retention": "zero",
}


def simulator_config(**overrides: Any) -> SimulatorConfig:
    base: dict[str, Any] = {
        "time_to_first_token_ms": 5,
        "inter_token_ms": 1,
        "models": [
            {"name": CHAT_MODEL, "kind": "chat", "max_model_len": 4096},
            {"name": EMBEDDING_MODEL, "kind": "embedding", "max_model_len": 512},
        ],
    }
    base.update(overrides)
    return SimulatorConfig.model_validate(base)


@pytest.fixture(scope="session")
def simulator() -> Iterator[BackgroundServer]:
    """One simulated vLLM replica shared by the session (tests must not change its config)."""
    with BackgroundServer(create_simulator_app(simulator_config())) as server:
        yield server


def make_catalog(*replica_urls: str, **model_overrides: Any) -> Catalog:
    """A chat model and an embedding model served by the given replicas."""
    replicas = [f"{url}/v1" for url in replica_urls]
    chat = {
        "name": CHAT_MODEL,
        "description": "Test model",
        "deployments": [{"name": "sim", "replicas": replicas, "hosting": HEALTH_CLEARED}],
        **model_overrides,
    }
    embeddings = {
        "name": EMBEDDING_MODEL,
        "endpoints": ["embeddings"],
        "deployments": [{"name": "sim-emb", "replicas": replicas, "hosting": HEALTH_CLEARED}],
    }
    return parse_catalog({"models": [chat, embeddings]})


@dataclass
class RunningGateway:
    """A gateway on a real port, with a key, and a way to read its ledger."""

    url: str
    key: str
    key_id: str
    database_url: str
    server: BackgroundServer
    clients: list[openai.OpenAI] = field(default_factory=list)

    def sdk(self, api_key: str | None = None, **options: Any) -> openai.OpenAI:
        """An openai client for this gateway (closed with the gateway; no retries by default)."""
        options.setdefault("max_retries", 0)
        client = openai.OpenAI(base_url=self.base_url, api_key=api_key or self.key, **options)
        self.clients.append(client)
        return client

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def records(self, request_ids: list[str], *, timeout_s: float = 10.0) -> list[LedgerRecord]:
        """The ledger records of ``request_ids``, waiting for the writer's flush."""
        found: list[LedgerRecord] = []

        def complete() -> bool:
            found[:] = asyncio.run(_read(self.database_url, request_ids))
            return len({r.request_id for r in found}) >= len(set(request_ids))

        with contextlib.suppress(TimeoutError):  # the caller says what was missing
            wait_until(complete, timeout_s=timeout_s, interval_s=0.05)
        return found

    def applied_limits(self) -> dict[str, dict[str, Any]]:
        """The limits this gateway applies to its key, per level (what ``GET /v1/me`` shows)."""
        me = httpx.get(f"{self.base_url}/me", headers={"Authorization": f"Bearer {self.key}"})
        return {entry["level"]: entry for entry in me.json()["limits"]}

    def wait_for_limit(self, level: str, field: str, value: object) -> None:
        """Until the gateway applies ``value`` (compared as text) as ``field`` of ``level``."""

        def applied() -> bool:
            current = self.applied_limits().get(level, {}).get(field)
            return current is not None and Decimal(str(current)) == Decimal(str(value))

        wait_until(applied, message=f"{level} {field} = {value}")

    def count(self) -> int:
        return asyncio.run(_count(self.database_url))


async def _read(url: str, request_ids: list[str]) -> list[LedgerRecord]:
    engine = make_engine(url)
    try:
        return await ledger.records_by_id(engine, request_ids)
    finally:
        await engine.dispose()


async def _count(url: str) -> int:
    engine = make_engine(url)
    try:
        return await ledger.count_records(engine)
    finally:
        await engine.dispose()


async def seed_key(
    url: str, *, department: str = "cardiologie", user: str = "dr.test"
) -> tuple[str, str]:
    engine = make_engine(url)
    try:
        await register_test_use_case(engine)
        key = await issue_key(engine, user, department=department, use_case="tests")
    finally:
        await engine.dispose()
    return key.secret, key.key_id


async def register_test_use_case(engine: AsyncEngine, name: str = "tests") -> None:
    """The use case the tests' keys serve: in production, any approved model."""
    if await find_use_case(engine, name) is None:
        with contextlib.suppress(DirectoryError):  # registered meanwhile by another seed
            await register_use_case(
                engine, UseCase(name, purpose="Automated tests", status=Lifecycle.PRODUCTION)
            )


GatewayFactory = Callable[..., RunningGateway]


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite ledger migrated once per session; tests get copies of it (see ``sqlite_url``)."""
    path = tmp_path_factory.mktemp("template") / "ledger.db"
    upgrade_to_head(f"sqlite+aiosqlite:///{path}")  # Alembic disposes its engine: file is closed
    return path


@pytest.fixture(scope="session")
def migrated_postgres() -> Iterator[str]:
    """The name of a PostgreSQL database migrated once per session, used as a template."""
    url, name = create_postgres_database()
    try:
        upgrade_to_head(url)  # disposes its engine: no connection left to block the copies
        yield name
    finally:
        drop_postgres_database(name)


def sqlite_copy(template: Path, folder: Path) -> str:
    """The URL of a copy of the migrated ``template`` in ``folder`` (a file copy, no migration)."""
    path = folder / "ledger.db"
    shutil.copyfile(template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated ledger database: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        yield sqlite_copy(request.getfixturevalue("migrated_sqlite"), tmp_path)
        return
    url, name = create_postgres_database(template=request.getfixturevalue("migrated_postgres"))
    try:
        yield url
    finally:
        drop_postgres_database(name)


@pytest.fixture
def sqlite_url(migrated_sqlite: Path, tmp_path: Path) -> str:
    return sqlite_copy(migrated_sqlite, tmp_path)


@pytest.fixture
def start_gateway(tmp_path: Path) -> Iterator[GatewayFactory]:
    """Start gateways on demand: ``start_gateway(catalog, database_url, **settings)``."""
    running: list[BackgroundServer] = []
    gateways: list[RunningGateway] = []

    def start(catalog: Catalog, database_url: str, **settings: Any) -> RunningGateway:
        values: dict[str, Any] = {
            "database_url": database_url,
            "spool_dir": tmp_path / f"spool-{len(running)}",
            "ledger_flush_interval_s": 0.05,
            "admin_token": "admin-test-token",
            **settings,
        }
        key, key_id = asyncio.run(seed_key(database_url))
        server = BackgroundServer(create_app(Settings(**values), catalog, migrate=False)).start()
        running.append(server)
        gateway = RunningGateway(server.url, key, key_id, database_url, server)
        gateways.append(gateway)
        return gateway

    yield start
    for gateway in gateways:
        for client in gateway.clients:
            client.close()
    for server in running:
        server.stop()


@pytest.fixture
def gateway(
    simulator: BackgroundServer, start_gateway: GatewayFactory, database_url: str
) -> RunningGateway:
    """A gateway in front of the shared simulator, on SQLite and on PostgreSQL."""
    return start_gateway(make_catalog(simulator.url), database_url)


@pytest.fixture
def sqlite_gateway(
    simulator: BackgroundServer, start_gateway: GatewayFactory, sqlite_url: str
) -> RunningGateway:
    """A gateway on SQLite only, for tests whose point is not the database."""
    return start_gateway(make_catalog(simulator.url), sqlite_url)
