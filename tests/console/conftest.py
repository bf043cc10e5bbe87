"""The console against a real gateway application (real services, real database), in process.

``open_console`` starts the app's lifespan without a server and hands out httpx clients that
talk to it over ASGI; ``sign_in`` signs a client in through a real one-time link.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.types import ASGIApp

from billing import directory
from billing.db.database import make_engine
from gateway.app import create_app
from gateway.catalog import Catalog
from gateway.console.links import link_key, make_token
from gateway.settings import Settings
from gateway.steps.key_issuing import issue_key
from tests.conftest import register_test_use_case

ADMIN_TOKEN = "console-admin-token-for-tests"
HOSTILE_NAME = "<script>alert(1)</script>"
FORMULA_NAME = "=cmd|' /C calc'!A0"

# username -> (department, role, display name)
PEOPLE = {
    "ada": ("cardiologie", "admin", "Ada Admin"),
    "fiona": ("cardiologie", "finance", "Fiona Finance"),
    "dora": ("cardiologie", "department_admin", "Dora Head"),
    "max": ("cardiologie", "member", HOSTILE_NAME),
    "rita": ("radiologie", "department_admin", "Rita Head"),
    FORMULA_NAME: ("radiologie", "member", "Formula User"),
}


async def seed_people(database_url: str) -> dict[str, str]:
    """The departments and users above, and a key for each; returns username -> key secret."""
    engine = make_engine(database_url)
    secrets: dict[str, str] = {}
    try:
        await register_test_use_case(engine)
        for name in ("cardiologie", "radiologie"):
            await directory.create_department(engine, name, display_name=name.title())
        for username, (department, role, display) in PEOPLE.items():
            await directory.create_user(
                engine, username, department=department, display_name=display, role=role
            )
            key = await issue_key(engine, username, use_case="tests", name=f"key of {username}")
            secrets[username] = key.secret
    finally:
        await engine.dispose()
    return secrets


@asynccontextmanager
async def lifespan(app: ASGIApp) -> AsyncIterator[None]:
    """Run the app's startup and shutdown as a server would (ASGI lifespan protocol)."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.ensure_future(app(scope, inbox.get, outbox.put))  # type: ignore[arg-type]
    started = await outbox.get()
    assert started["type"] == "lifespan.startup.complete", started
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task


@dataclass
class Console:
    app: ASGIApp
    settings: Settings
    keys: dict[str, str]
    root_path: str = ""
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def client(self, **options: Any) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, root_path=self.root_path)
        client = httpx.AsyncClient(transport=transport, base_url="https://hygie.test", **options)
        self.clients.append(client)
        return client

    def link(self, username: str, ttl_s: int = 300) -> str:
        key = link_key(None, ADMIN_TOKEN)
        assert key is not None
        return make_token(key, username, ttl_s)

    async def sign_in(self, username: str, **options: Any) -> httpx.AsyncClient:
        client = self.client(**options)
        response = await redeem(client, self.link(username), self.root_path)
        assert response.status_code == 303, response.text
        return client


async def redeem(client: httpx.AsyncClient, token: str, root_path: str = "") -> httpx.Response:
    """Open a sign-in link and press its button, as a browser would."""
    page = await client.get(f"{root_path}/console/sign-in/link", params={"token": token})
    assert page.status_code == 200
    return await client.post(
        f"{root_path}/console/sign-in/link",
        data={"pre": hidden(page.text, "pre"), "token": token},
    )


def hidden(html: str, name: str) -> str:
    """The value of the hidden input ``name`` in a page."""
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden {name} field"
    return match.group(1)


@asynccontextmanager
async def open_console(
    database_url: str, catalog: Catalog, spool: Path, **settings: Any
) -> AsyncIterator[Console]:
    keys = await seed_people(database_url)
    values: dict[str, Any] = {
        "database_url": database_url,
        "spool_dir": spool,
        "admin_token": ADMIN_TOKEN,
        "ledger_flush_interval_s": 0.05,
        **settings,
    }
    built = Settings(**values)
    app = create_app(built, catalog, migrate=False)
    console = Console(app, built, keys, root_path=built.root_path)
    async with lifespan(app):
        try:
            yield console
        finally:
            for client in console.clients:
                await client.aclose()
