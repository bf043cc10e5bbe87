"""Signing in to the console in a real Chromium through the real test identity provider: its
login form, each role's pages, signing out (of the console, then of the provider), and a
deployment under a sub-path."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.app import create_app
from gateway.http.local_server import BackgroundServer
from gateway.settings import Settings
from tests.conftest import GatewayFactory, RunningGateway
from tests.console.browser.conftest import ConsoleSite, chromium_executable, console_catalog
from tests.console.browser.test_console_browser import STAFF_NAV, nav_names
from tests.console.conftest import ADMIN_TOKEN
from tests.console.oidc_site import STAFF, console_identity, console_provider
from tests.identity.oidc.oidc_provider import RunningProvider

pytestmark = pytest.mark.slow

NAV = {
    "hugo": [*STAFF_NAV, "Audit"],
    "claire": [*STAFF_NAV, "Audit"],
    "bob": [*STAFF_NAV, "Audit"],  # a department admin reads their department's trail
    "alice": ["Ma consommation"],
}
# Pages each person must be refused (the same rules as the admin API).
REFUSED = {"alice": ["overview", "finance", "organisation", "audit"]}


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProvider]:
    chromium_executable()  # skip (or fail under CI) before starting anything
    with console_provider(tmp_path_factory.mktemp("oidc") / "jwks.json") as op:
        yield op


async def sign_in_at_provider(site: ConsoleSite, username: str, prefix: str = "") -> Any:
    """Press the console's button, type the password on the provider's form, come back."""
    page = await site.page()
    await page.goto(f"{prefix}/console/sign-in")
    await page.get_by_role("link", name="Se connecter avec CHU Test").click()
    await page.wait_for_url("**/interaction/**")
    await page.locator("input[name=username]").fill(username)
    await page.locator("input[name=password]").fill(STAFF[username][0])
    await page.get_by_role("button", name="Sign-in").click()
    await page.wait_for_url(f"**{prefix}/console/{STAFF[username][3]}", timeout=10_000)
    return page


def test_each_role_signs_in_at_the_provider_sees_its_pages_and_signs_out(
    provider: RunningProvider,
    simulator: BackgroundServer,
    start_gateway: GatewayFactory,
    sqlite_url: str,
    screenshots: Path,
) -> None:
    gateway = start_gateway(
        console_catalog(simulator.url),
        sqlite_url,
        admin_token=ADMIN_TOKEN,
        identity=console_identity(provider.issuer),
    )
    site = ConsoleSite(gateway)

    async def scenario() -> None:
        async with site.browsing():
            first = await site.page()
            await first.goto("/console/sign-in")
            await first.screenshot(path=screenshots / "sign-in-oidc.png", full_page=True)
            for username, expected in NAV.items():
                page = await sign_in_at_provider(site, username)
                assert await nav_names(page) == expected, username
                for slug in REFUSED.get(username, []):
                    assert (await page.goto(f"/console/{slug}")).status == 403, (username, slug)
                site.errors.clear()  # the browser logs the refusals above
            page = await sign_in_at_provider(site, "claire")
            await page.get_by_role("button", name="Se déconnecter").click()
            await page.wait_for_url("**/console/sign-in?signed_out=0")
            assert await page.get_by_role("status").inner_text() == "Vous êtes déconnecté de Hygie."
            await page.screenshot(path=screenshots / "signed-out-oidc.png", full_page=True)
            assert (await page.goto("/console/me")).url.endswith("/console/sign-in")
            await page.go_back()
            await page.get_by_role("link", name="Fermer aussi votre session CHU Test").click()
            await page.get_by_role("button", name="Sign out").click()
            await page.wait_for_url(f"{provider.issuer}/**")
            assert "Signed out" in await page.content()

    asyncio.run(scenario())


def test_oidc_sign_in_behind_a_proxy_sub_path(
    provider: RunningProvider, simulator: BackgroundServer, sqlite_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=sqlite_url,
        spool_dir=tmp_path / "spool",
        admin_token=ADMIN_TOKEN,
        root_path="/ia",
        identity=console_identity(provider.issuer),
    )
    app = create_app(settings, console_catalog(simulator.url), migrate=False)

    async def behind_proxy(scope: Any, receive: Any, send: Any) -> None:
        # What a reverse proxy under /ia and uvicorn --root-path /ia hand the application.
        if scope["type"] == "http":
            scope = {**scope, "root_path": "/ia"}
        await app(scope, receive, send)

    server = BackgroundServer(behind_proxy).start()
    site = ConsoleSite(RunningGateway(server.url, "", "", sqlite_url, server), prefix="/ia")

    async def scenario() -> None:
        async with site.browsing():
            page = await sign_in_at_provider(site, "bob", prefix="/ia")
            assert page.url == f"{server.url}/ia/console/overview"
            await page.get_by_role("link", name="Finances").click()
            await page.wait_for_url("**/ia/console/finance")

    try:
        asyncio.run(scenario())
    finally:
        server.stop()
