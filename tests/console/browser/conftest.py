"""The console in a real headless Chromium (Debian's, driven by Playwright; nothing downloaded).

Without a Chromium the browser tests are skipped, with the reason shown, except under CI=true
where they fail: CI must never pass by skipping them. Screenshots of every page go to
``$HYGIE_SCREENSHOTS`` (default ``tests/console/screenshots/``), named at the end of the run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from gateway.catalog import Catalog, parse_catalog
from gateway.console.links import link_key, make_token
from gateway.http.local_server import BackgroundServer
from tests.conftest import CHAT_MODEL, GatewayFactory, RunningGateway
from tests.console.conftest import ADMIN_TOKEN, seed_people

HERE = Path(__file__).resolve().parent
SCREENSHOTS = Path(os.environ.get("HYGIE_SCREENSHOTS") or HERE.parent / "screenshots")
# Dear enough that three short requests cost euros, not fractions of a cent.
PRICES = {CHAT_MODEL: {"input": "20000", "output": "20000"}}


def missing(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def chromium_executable() -> str:
    """CHROMIUM_PATH, else Debian's headless shell (fastest to start), else the full browser."""
    path = (
        os.environ.get("CHROMIUM_PATH")
        or shutil.which("chromium-headless-shell")
        or shutil.which("chromium")
    )
    if not path:
        missing("no Chromium: run `make browser` (Debian's headless shell; make test does it)")
    return path


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """A fresh headless Chromium (Playwright's async API: the sync one would hold an event
    loop on the test's thread, which the fixtures' ``asyncio.run`` calls cannot share)."""
    executable = chromium_executable()
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        missing("playwright is not installed (uv sync installs it)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable)
        try:
            yield launched
        finally:
            await launched.close()


def console_catalog(simulator_url: str) -> Catalog:
    hosting = {"class": "on_premise", "cleared_for": ["public", "internal", "personal", "health"]}
    return parse_catalog(
        {
            "models": [
                {
                    "name": CHAT_MODEL,
                    "description": "Assistant <b>sur site</b>",
                    "deployments": [
                        {"name": "sim", "replicas": [f"{simulator_url}/v1"], "hosting": hosting}
                    ],
                }
            ],
            "prices": PRICES,
        }
    )


@dataclass
class ConsoleSite:
    """A gateway with the test people, and browser pages signed in through one-time links."""

    gateway: RunningGateway
    prefix: str = ""
    keys: dict[str, str] = field(default_factory=dict)
    browser: Any = None
    errors: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.gateway.url}{self.prefix}"

    async def page(self, locale: str = "fr-FR", **options: Any) -> Any:
        context = await self.browser.new_context(
            base_url=self.url, locale=locale, accept_downloads=True, **options
        )
        page = await context.new_page()
        # Any console error fails the test: a CSP violation (an inline script or style that
        # slipped in) shows up here.
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        return page

    async def sign_in(self, username: str, locale: str = "fr-FR", **options: Any) -> Any:
        key = link_key(None, ADMIN_TOKEN)
        assert key is not None
        page = await self.page(locale, **options)
        token = make_token(key, username, 300)
        await page.goto(f"{self.prefix}/console/sign-in/link?token={token}")
        await page.get_by_role("button").filter(has_text="Continu").click()
        await page.wait_for_url("**/console/*", timeout=5000)
        return page

    @asynccontextmanager
    async def browsing(self) -> AsyncIterator[ConsoleSite]:
        async with chromium() as browser:
            self.browser = browser
            yield self
        assert self.errors == []


@pytest.fixture
def site(
    simulator: BackgroundServer, start_gateway: GatewayFactory, sqlite_url: str
) -> ConsoleSite:
    chromium_executable()  # skip (or fail under CI) before starting anything
    keys = asyncio.run(seed_people(sqlite_url))
    gateway = start_gateway(
        console_catalog(simulator.url), sqlite_url, quota_refresh_s=0.2, admin_token=ADMIN_TOKEN
    )
    return ConsoleSite(gateway, keys=keys)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SCREENSHOTS.is_dir() and any(SCREENSHOTS.glob("*.png")):
        terminalreporter.write_line(f"console screenshots: {SCREENSHOTS}")
