"""Fixtures of the in-process pipeline suite (the harness is :mod:`.harness`).

Starting the app takes a few tenths of a second (policy and identifier lexicons), so one
gateway serves a whole test module; each test gets its fakes reset. Tests that change the
gateway's state for good (quotas, a revoked key) start their own with ``in_process_gateway``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import sqlite_copy
from tests.gateway.pipeline.harness import InProcessGateway, in_process_gateway, make_catalog


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def shared_gw(
    migrated_sqlite: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[InProcessGateway]:
    folder = tmp_path_factory.mktemp("pipeline")
    url = sqlite_copy(migrated_sqlite, folder)
    async with in_process_gateway(make_catalog(), url, folder / "spool") as gateway:
        yield gateway


@pytest.fixture
def gw(shared_gw: InProcessGateway) -> InProcessGateway:
    """The module's gateway over fakes with nothing scripted: ``llama-3-8b`` on two on-premise
    replicas, ``cloud-gpt`` in an EU cloud (not cleared for health data)."""
    for fake in shared_gw.fakes.values():
        fake.reset()
    return shared_gw


@pytest.fixture
async def fresh_gw(sqlite_url: str, tmp_path: Path) -> AsyncIterator[InProcessGateway]:
    """A gateway of this test's own (its quotas, keys and ledger start empty)."""
    async with in_process_gateway(make_catalog(), sqlite_url, tmp_path / "spool") as gateway:
        yield gateway
