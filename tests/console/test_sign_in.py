"""Signing in: one-time links, the break-glass token, sessions and their cookie."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from gateway.console.links import InvalidLink, link_key, make_token, read_token
from tests.conftest import make_catalog
from tests.console.conftest import ADMIN_TOKEN, hidden, open_console, redeem

CATALOG = make_catalog("http://127.0.0.1:9/v1")


def test_a_link_signs_in_once_with_the_role_from_the_directory(
    sqlite_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool") as console:
            token = console.link("dora")
            first = console.client()
            answer = await redeem(first, token)
            assert answer.status_code == 303
            assert answer.headers["location"] == "/console/overview"
            cookie = answer.headers["set-cookie"]
            assert "HttpOnly" in cookie and "Secure" in cookie
            assert "SameSite=lax" in cookie and "Path=/console/" in cookie
            page = await first.get("/console/overview")
            assert page.status_code == 200 and "Dora Head" in page.text
            again = await redeem(console.client(), token)
            assert again.status_code == 401
            assert "www-authenticate" in again.headers  # counted by the failed-auth throttle

    asyncio.run(scenario())


def test_forged_expired_and_malformed_links_are_refused() -> None:
    key = link_key(None, ADMIN_TOKEN)
    other = link_key("another secret", None)
    assert key is not None and other is not None
    with pytest.raises(InvalidLink):
        read_token(key, make_token(other, "ada", 300))
    with pytest.raises(InvalidLink):
        read_token(key, make_token(key, "ada", 60, now=0))
    for junk in ("", "v1..", "v1.a.b", "x" * 5000, "v1.é.ü", "v2" + make_token(key, "a", 9)[2:]):
        with pytest.raises(InvalidLink):
            read_token(key, junk)
    assert read_token(key, make_token(key, "ada", 60)).username == "ada"
    assert link_key(None, None) is None


def test_a_link_for_an_unknown_user_or_without_a_cookie_fails(
    sqlite_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool") as console:
            assert (await redeem(console.client(), console.link("nobody"))).status_code == 401
            # Login CSRF: a form posted without the sign-in cookie is refused.
            bare = console.client()
            answer = await bare.post(
                "/console/sign-in/link", data={"pre": "x", "token": console.link("ada")}
            )
            assert answer.status_code == 403

    asyncio.run(scenario())


def test_break_glass_token_signs_in_as_admin_and_is_logged_without_the_token(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool") as console:
            client = console.client()
            page = await client.get("/console/sign-in")
            wrong = await client.post(
                "/console/sign-in/break-glass",
                data={"pre": hidden(page.text, "pre"), "token": "guess"},
            )
            assert wrong.status_code == 401
            answer = await client.post(
                "/console/sign-in/break-glass",
                data={"pre": hidden(wrong.text, "pre"), "token": ADMIN_TOKEN},
            )
            assert answer.status_code == 303
            overview = await client.get("/console/overview")
            assert overview.status_code == 200
            assert ADMIN_TOKEN not in overview.text

    with caplog.at_level(logging.INFO, logger="hygie.console"):
        asyncio.run(scenario())
    assert "break-glass" in caplog.text
    assert ADMIN_TOKEN not in caplog.text


def test_signing_out_ends_the_session(sqlite_url: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool") as console:
            client = await console.sign_in("ada")
            page = await client.get("/console/overview")
            cookie = client.cookies.get("hygie_console")
            out = await client.post("/console/sign-out", data={"csrf": hidden(page.text, "csrf")})
            assert out.status_code == 303
            thief = console.client(cookies={"hygie_console": cookie or ""})
            again = await thief.get("/console/overview")
            assert again.status_code == 303
            assert again.headers["location"] == "/console/sign-in"

    asyncio.run(scenario())
