"""The gateway in front of a REAL vLLM server (opt-in: ``HYGIE_REAL_VLLM_URL``)."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import pytest

from billing.db.database import make_engine
from billing.ledger import repository as ledger
from billing.ledger.record import LedgerRecord
from gateway.catalog import parse_catalog
from tests.conftest import HEALTH_CLEARED, GatewayFactory, RunningGateway
from tests.real_vllm.vllm_counters import Counters, settled_counters

VLLM_URL = os.environ.get("HYGIE_REAL_VLLM_URL", "").rstrip("/")
VLLM_MODEL = os.environ.get("HYGIE_REAL_VLLM_MODEL", "tiny-llama")
# vLLM serves one model per server: embeddings usually come from a second one.
EMBEDDING_URL = os.environ.get("HYGIE_REAL_VLLM_EMBEDDING_URL", VLLM_URL).rstrip("/")
EMBEDDING_MODEL = os.environ.get("HYGIE_REAL_VLLM_EMBEDDING_MODEL", VLLM_MODEL)


@dataclass
class RealVllm:
    """A gateway (fresh SQLite ledger) whose only upstream is the real vLLM server."""

    gateway: RunningGateway
    client: openai.OpenAI
    url: str = VLLM_URL
    model: str = VLLM_MODEL

    def counters(self, url: str | None = None) -> Counters:
        """vLLM's token counters once it is idle."""
        return settled_counters(url or self.url)

    def only_record(self, *, timeout_s: float = 10.0) -> LedgerRecord:
        """The one record of this gateway's ledger (for a request whose id the client never
        received), waiting for the writer's flush."""
        deadline = time.monotonic() + timeout_s
        while self.gateway.count() < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        records = asyncio.run(_recent(self.gateway.database_url))
        assert len(records) == 1, f"expected exactly one ledger record, found {len(records)}"
        return records[0]


async def _recent(url: str) -> list[LedgerRecord]:
    engine = make_engine(url)
    try:
        return await ledger.recent_records(engine, limit=2)
    finally:
        await engine.dispose()


def _deployment(name: str, url: str) -> dict[str, Any]:
    return {"name": name, "replicas": [f"{url}/v1"], "hosting": HEALTH_CLEARED}


def real_catalog() -> dict[str, Any]:
    """The chat model, and the embedding model (one entry when one server serves both)."""
    if (EMBEDDING_URL, EMBEDDING_MODEL) == (VLLM_URL, VLLM_MODEL):
        return {
            "models": [
                {
                    "name": VLLM_MODEL,
                    "endpoints": ["chat", "completions", "embeddings"],
                    "deployments": [_deployment("real", VLLM_URL)],
                }
            ]
        }
    return {
        "models": [
            {"name": VLLM_MODEL, "deployments": [_deployment("real", VLLM_URL)]},
            {
                "name": EMBEDDING_MODEL,
                "endpoints": ["embeddings"],
                "deployments": [_deployment("real-emb", EMBEDDING_URL)],
            },
        ]
    }


@pytest.fixture
def real(start_gateway: GatewayFactory, sqlite_url: str) -> RealVllm:
    if not VLLM_URL:
        pytest.skip("opt-in: set HYGIE_REAL_VLLM_URL (see tests/real_vllm/README.md)")
    gateway = start_gateway(parse_catalog(real_catalog()), sqlite_url)
    return RealVllm(gateway, gateway.sdk(timeout=60))


@pytest.fixture
def embedding_served(real: RealVllm) -> str:
    """The embedding model's server URL; skips, with vLLM's own reason, when it serves none."""
    answer = httpx.post(
        f"{EMBEDDING_URL}/v1/embeddings",
        json={"model": EMBEDDING_MODEL, "input": "probe"},
        timeout=30,
    )
    if answer.status_code != 200:
        pytest.skip(
            f"{EMBEDDING_URL} serves no embedding model {EMBEDDING_MODEL!r} (HTTP "
            f"{answer.status_code}: {answer.text[:160]}); set HYGIE_REAL_VLLM_EMBEDDING_URL/_MODEL"
        )
    return EMBEDDING_URL
