"""The whole gateway in this process: no port, no subprocess, fake upstreams.

The app is the real one (``create_app``: authentication, policy, quotas, routing, ledger) with a
:class:`FakeBackend` per deployment, driven through ``httpx.ASGITransport`` (the official
``openai`` SDK can use it too) on a copy of the migrated SQLite database.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
from starlette.types import ASGIApp, Message, Scope

from billing.db.database import make_engine
from billing.ledger import repository as ledger
from billing.ledger.record import LedgerRecord
from gateway.app import create_app
from gateway.backends.fake import FakeBackend
from gateway.catalog import Catalog, parse_catalog
from gateway.settings import Settings
from tests.conftest import CHAT_MODEL, seed_key

ADMIN = {"Authorization": "Bearer admin-test-token"}
ON_PREM = {"class": "on_premise", "cleared_for": ["public", "internal", "personal", "health"]}
EXTERNAL = {"class": "eu_cloud", "cleared_for": ["public", "internal"], "retention": "zero"}
CLOUD_MODEL = "cloud-gpt"
PATIENT = "Mme Jeanne DUPONT, née le 12/03/1956, NIR 2 56 03 75 112 004 60"
NOTE = f"Résume le dossier de {PATIENT} : douleur thoracique, troponine élevée."
# 1,000 EUR per million tokens: one token costs 1,000 micro-euros.
PRICES = {name: {"input": "1000", "output": "1000"} for name in (CHAT_MODEL, CLOUD_MODEL)}


def make_catalog(*, onprem_replicas: int = 2, alternative: bool = False, **chat: Any) -> Catalog:
    """An on-premise chat model (replicas ``http://onprem-N/v1``) and an EU-cloud one."""
    cloud: dict[str, Any] = {
        "name": CLOUD_MODEL,
        "deployments": [
            {"name": "cloud-eu", "replicas": ["http://cloud-eu/v1"], "hosting": EXTERNAL}
        ],
    }
    if alternative:
        cloud["sovereign_alternative"] = CHAT_MODEL
    onprem = {
        "name": CHAT_MODEL,
        "deployments": [
            {
                "name": "onprem",
                "replicas": [f"http://onprem-{i}/v1" for i in range(onprem_replicas)],
                "hosting": ON_PREM,
            }
        ],
        **chat,
    }
    return parse_catalog({"models": [onprem, cloud], "prices": PRICES})


def fakes_for(catalog: Catalog) -> dict[str, FakeBackend]:
    """One fake per deployment, answering on the deployment's replica URLs."""
    return {
        d.name: FakeBackend(targets=d.replica_urls()) for m in catalog.models for d in m.deployments
    }


@dataclass
class InProcessGateway:
    client: httpx.AsyncClient
    key: str
    key_id: str
    database_url: str
    fakes: dict[str, FakeBackend]

    def sdk(self, api_key: str | None = None) -> openai.AsyncOpenAI:
        """The official client, talking to the app through the same transport."""
        return openai.AsyncOpenAI(
            base_url="http://hygie/v1",
            api_key=api_key or self.key,
            # The SDK's annotations name its own copy of httpx; any httpx.AsyncClient works.
            http_client=self.client,  # type: ignore[arg-type]
            max_retries=0,
        )

    async def chat(
        self, content: str = "Bonjour", *, key: str | None = None, **fields: Any
    ) -> httpx.Response:
        body = {
            "model": CHAT_MODEL,
            "messages": [{"role": "user", "content": content}],
            "max_tokens": 5,
            **fields,
        }
        headers = {"Authorization": f"Bearer {key or self.key}"}
        return await self.client.post("/v1/chat/completions", json=body, headers=headers)

    async def set_quota(self, **spec: Any) -> None:
        response = await self.client.put("/admin/quotas", headers=ADMIN, json=spec)
        assert response.status_code == 200, response.text

    async def records(self, *request_ids: str, timeout_s: float = 5.0) -> list[LedgerRecord]:
        """The ledger records of ``request_ids`` once the writer has flushed them."""
        engine = make_engine(self.database_url)
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                found = await ledger.records_by_id(engine, list(request_ids))
                if len(found) >= len(set(request_ids)) or time.monotonic() > deadline:
                    return found
                await asyncio.sleep(0.01)
        finally:
            await engine.dispose()


@asynccontextmanager
async def lifespan(app: ASGIApp) -> AsyncIterator[None]:
    """Run the app's startup and shutdown as a server would (ASGI lifespan protocol)."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task: asyncio.Future[None] = asyncio.ensure_future(app(scope, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    assert started["type"] == "lifespan.startup.complete", started
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        stopped = await outbox.get()
        await task
        assert stopped["type"] == "lifespan.shutdown.complete", stopped


@asynccontextmanager
async def in_process_gateway(
    catalog: Catalog, database_url: str, spool: Path, **settings: Any
) -> AsyncIterator[InProcessGateway]:
    """The gateway app over fakes, started, with a key of department ``cardiologie``."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "spool_dir": spool,
        "ledger_flush_interval_s": 0.01,
        "admin_token": "admin-test-token",
        "quota_refresh_s": 0.05,
        **settings,
    }
    fakes = fakes_for(catalog)
    app = create_app(Settings(**values), catalog, migrate=False, backends=fakes)
    key, key_id = await seed_key(database_url)
    transport = httpx.ASGITransport(app=app)
    async with (
        lifespan(app),
        httpx.AsyncClient(transport=transport, base_url="http://hygie") as client,
    ):
        yield InProcessGateway(client, key, key_id, database_url, fakes)
