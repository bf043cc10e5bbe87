"""Fixtures of the in-process pipeline suite (the harness is :mod:`.harness`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.gateway.pipeline.harness import InProcessGateway, in_process_gateway, make_catalog


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def gw(sqlite_url: str, tmp_path: Path) -> AsyncIterator[InProcessGateway]:
    """The gateway over fakes: ``llama-3-8b`` on two on-premise replicas, ``cloud-gpt`` in
    an EU cloud (not cleared for health data)."""
    async with in_process_gateway(make_catalog(), sqlite_url, tmp_path / "spool") as gateway:
        yield gateway
