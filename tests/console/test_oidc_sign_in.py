"""Signing in to the console through the identity provider: code + PKCE, state, nonce.

The real test provider signs people in; a token endpoint put in front of it (same issuer, same
keys) answers forged ID tokens, to check each one the console must refuse.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.console.oidc_logins import MAX_PENDING, PENDING_TTL_S, PendingLogins, pkce_challenge
from gateway.http.local_server import BackgroundServer
from tests.conftest import make_catalog, sqlite_copy
from tests.console.conftest import Console, hidden, open_console
from tests.console.oidc_site import (
    CONSOLE_CLIENT,
    CONSOLE_SECRET,
    STAFF,
    console_identity,
    console_provider,
    provider_answer,
)
from tests.identity.forge import signed, unsigned
from tests.identity.oidc.oidc_provider import RunningProvider, login

CATALOG = make_catalog("http://127.0.0.1:9/v1")
PUBLIC = "http://127.0.0.1:9"
CALLBACK = f"{PUBLIC}/console/sign-in/callback"


@pytest.fixture(scope="module")
def oidc_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("console-oidc") / "jwks.json"


@pytest.fixture(scope="module")
def provider(oidc_keys: Path) -> Iterator[RunningProvider]:
    with console_provider(oidc_keys) as op:
        yield op


async def start(client: httpx.AsyncClient, prefix: str = "") -> dict[str, str]:
    """Press the sign-in button; the parameters sent to the provider (and its address)."""
    page = await client.get(f"{prefix}/console/sign-in")
    assert f'href="{prefix}/console/sign-in/oidc?provider=0"' in page.text
    answer = await client.get(f"{prefix}/console/sign-in/oidc", params={"provider": "0"})
    assert answer.status_code == 303, answer.text
    location = httpx.URL(answer.headers["location"])
    return {**dict(location.params), "authorize": str(location)}


async def callback(client: httpx.AsyncClient, url: str, prefix: str = "") -> httpx.Response:
    """Follow the provider's redirect back to the console, as the browser does."""
    query = httpx.URL(url).params
    return await client.get(f"{prefix}/console/sign-in/callback", params=query)


async def sign_in(console: Console, username: str) -> tuple[httpx.AsyncClient, httpx.Response]:
    client = console.client()
    sent = await start(client, console.root_path)
    url = provider_answer(sent["authorize"], sent["redirect_uri"], username)
    return client, await callback(client, url, console.root_path)


def test_each_person_signs_in_with_the_role_and_department_the_api_gives(
    provider: RunningProvider, database_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        settings = {"identity": console_identity(provider.issuer), "console_public_url": PUBLIC}
        async with open_console(database_url, CATALOG, tmp_path / "spool", **settings) as console:
            sent = await start(console.client())
            assert sent["redirect_uri"] == CALLBACK and sent["client_id"] == CONSOLE_CLIENT
            assert sent["code_challenge_method"] == "S256" and sent["response_type"] == "code"
            assert sent["scope"] == "openid profile email department groups"
            assert min(len(sent["state"]), len(sent["nonce"]), len(sent["code_challenge"])) >= 43
            for username, (password, department, role, home) in STAFF.items():
                client, answer = await sign_in(console, username)
                assert answer.status_code == 303, answer.text
                assert answer.headers["location"] == f"/console/{home}"
                cookies = answer.headers.get_list("set-cookie")
                session = next(c for c in cookies if c.startswith("hygie_console="))
                assert "HttpOnly" in session and "Secure" in session and "SameSite=lax" in session
                assert (await client.get(f"/console/{home}")).status_code == 200
                # The API, given the same person's access token, sees the same person.
                token = login(provider.issuer, "hygie-cli", username, password)["access_token"]
                me = await client.get("/v1/me", headers={"authorization": f"Bearer {token}"})
                assert me.status_code == 200, me.text
                assert (me.json()["user"], me.json()["department"]) == (username, department)
                assert me.json()["role"] == role

    asyncio.run(scenario())


def test_a_callback_is_single_use_and_bound_to_the_browser_that_started_it(
    provider: RunningProvider, sqlite_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        settings = {"identity": console_identity(provider.issuer), "console_public_url": PUBLIC}
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool", **settings) as console:
            victim = console.client(headers={"accept-language": "en"})
            sent = await start(victim)
            url = provider_answer(sent["authorize"], sent["redirect_uri"], "hugo")
            # Another browser (an attacker handed the link) gets nothing, and burns the state.
            stolen = await callback(console.client(headers={"accept-language": "en"}), url)
            assert stolen.status_code == 400 and "started in another browser" in stolen.text
            assert (await callback(victim, url)).status_code == 400

            client, answer = await sign_in(console, "hugo")
            assert answer.status_code == 303
            replayed = await callback(client, str(answer.request.url))
            assert replayed.status_code == 400
            assert "Traceback" not in replayed.text

            for state in ("", "forged-state", "x" * 10_000, "é\u202e<script>"):
                forged = await client.get(
                    "/console/sign-in/callback", params={"state": state, "code": "c"}
                )
                assert forged.status_code == 400
                assert "<script>" not in forged.text

    asyncio.run(scenario())


def test_cancelling_at_the_provider_or_a_provider_down_shows_a_clear_page(
    provider: RunningProvider, sqlite_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        identity = console_identity(provider.issuer)
        down = {**identity["issuers"][0], "issuer": "https://sso.down.test"}
        down["console_label"] = "<b>Down</b>"
        down["discovery_url"] = "http://127.0.0.1:9/.well-known/openid-configuration"
        identity["issuers"].append(down)
        settings = {"identity": identity, "console_public_url": PUBLIC}
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool", **settings) as console:
            client = console.client()
            sent = await start(client)
            url = provider_answer(sent["authorize"], sent["redirect_uri"], "alice", cancel=True)
            assert "error=access_denied" in url
            denied = await callback(client, url)
            assert denied.status_code == 403
            assert "annulée ou refusée" in denied.text  # French by default
            sign_in_page = (await client.get("/console/sign-in")).text
            assert 'href="/console/sign-in/oidc?provider=1"' in sign_in_page
            assert "avec &lt;b&gt;Down&lt;/b&gt;" in sign_in_page  # a label is text
            for _ in range(2):  # the second is answered without asking the provider again
                unreachable = await client.get("/console/sign-in/oidc", params={"provider": "1"})
                assert unreachable.status_code == 502
                assert "ne répond pas" in unreachable.text
            unknown = await client.get("/console/sign-in/oidc", params={"provider": "7"})
            assert unknown.status_code == 404

    asyncio.run(scenario())


class TokenEndpointInFront:
    """The provider's discovery document with the token endpoint replaced by one that answers
    what the test sets (a forged ID token, an error), and records what it was sent."""

    def __init__(self, provider: RunningProvider) -> None:
        document = httpx.get(provider.discovery_url).json()
        self.answer: tuple[int, dict[str, Any]] = (200, {})
        self.received: list[tuple[dict[str, str], str]] = []
        self.server = BackgroundServer(
            Starlette(
                routes=[
                    Route("/.well-known/openid-configuration", self._discovery),
                    Route("/token", self._token, methods=["POST"]),
                ]
            )
        )
        self.document = {**document, "token_endpoint": f"{self.server.url}/token"}

    async def _discovery(self, request: Request) -> JSONResponse:
        return JSONResponse(self.document)

    async def _token(self, request: Request) -> JSONResponse:
        form = dict(parse_qsl((await request.body()).decode()))
        self.received.append((form, request.headers.get("authorization", "")))
        status, body = self.answer
        return JSONResponse(body, status)


def id_token_claims(issuer: str, nonce: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": issuer,
        "sub": "7f3c2a10-0000-4000-8000-000000000b0b",
        "aud": CONSOLE_CLIENT,
        "iat": now,
        "exp": now + 300,
        "nonce": nonce,
        "preferred_username": "bob",
        "name": "Bob Durand",
        "department": "urgences",
        "roles": ["department_admin"],
    }
    values.update(overrides)
    return values


def test_forged_id_tokens_and_a_failing_token_endpoint_are_refused(
    provider: RunningProvider,
    oidc_keys: Path,
    sqlite_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    front = TokenEndpointInFront(provider)
    identity = console_identity(
        provider.issuer, discovery_url=f"{front.server.url}/.well-known/openid-configuration"
    )
    settings = {"identity": identity, "console_public_url": PUBLIC}
    caplog.set_level(logging.INFO)

    def forged(nonce: str) -> dict[str, str]:
        """Each bad ID token, by what is wrong with it."""
        issuer = provider.issuer
        good = id_token_claims(issuer, nonce)
        return {
            "audience of the API": signed(oidc_keys, {**good, "aud": "hygie-gateway"}),
            "another client among audiences": signed(
                oidc_keys, {**good, "aud": [CONSOLE_CLIENT, "x"], "azp": "x"}
            ),
            "wrong nonce": signed(oidc_keys, {**good, "nonce": "n" * 43}),
            "no nonce": signed(oidc_keys, {k: v for k, v in good.items() if k != "nonce"}),
            "expired": signed(oidc_keys, {**good, "exp": int(time.time()) - 3600}),
            "other issuer": signed(oidc_keys, {**good, "iss": "https://evil.test"}),
            "unsigned": unsigned(good, "rs256-x"),
            "not a JWT": "opaque-token",
        }

    async def attempt(console: Console, token: Any, status: int = 200) -> httpx.Response:
        client = console.client()
        sent = await start(client)
        body = token(sent["nonce"]) if callable(token) else token
        front.answer = (status, {"id_token": body, "access_token": "a", "token_type": "Bearer"})
        return await callback(client, f"{CALLBACK}?state={sent['state']}&code=the-code")

    async def scenario() -> None:
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool", **settings) as console:
            for what in forged("any"):
                answer = await attempt(console, lambda nonce, what=what: forged(nonce)[what])
                assert answer.status_code == 401, (what, answer.status_code)
                assert "Traceback" not in answer.text
            refused = await attempt(console, "x", status=400)
            assert refused.status_code == 502
            # RFC 9207: an answer that says it comes from another provider (a mix-up attack).
            client = console.client()
            sent = await start(client)
            mixed = await callback(
                client, f"{CALLBACK}?state={sent['state']}&code=c&iss=https%3A%2F%2Fevil.test"
            )
            assert mixed.status_code == 401
            # The harness itself lets a genuine token through: the refusals above are real.
            accepted = await attempt(
                console, lambda nonce: signed(oidc_keys, id_token_claims(provider.issuer, nonce))
            )
            assert accepted.status_code == 303, accepted.text
            form, authorization = front.received[-1]
            assert form["grant_type"] == "authorization_code" and form["code"] == "the-code"
            assert form["redirect_uri"] == CALLBACK and "client_id" not in form
            expected = base64.b64encode(f"{CONSOLE_CLIENT}:{CONSOLE_SECRET}".encode()).decode()
            assert authorization == f"Basic {expected}"

    with front.server:
        asyncio.run(scenario())
    for record in caplog.records:
        if record.name.startswith("httpx"):
            continue  # the test's own HTTP client, which logs the addresses it opens
        assert CONSOLE_SECRET not in record.getMessage(), record.name
        assert "the-code" not in record.getMessage(), record.name


def test_the_verifier_sent_to_the_token_endpoint_matches_the_challenge(
    provider: RunningProvider, oidc_keys: Path, sqlite_url: str, tmp_path: Path
) -> None:
    front = TokenEndpointInFront(provider)
    identity = console_identity(
        provider.issuer,
        discovery_url=f"{front.server.url}/.well-known/openid-configuration",
        console_client_secret=None,
    )
    settings = {"identity": identity, "console_public_url": PUBLIC}

    async def scenario() -> None:
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool", **settings) as console:
            client = console.client()
            sent = await start(client)
            claims = id_token_claims(provider.issuer, sent["nonce"])
            front.answer = (200, {"id_token": signed(oidc_keys, claims)})
            answer = await callback(client, f"{CALLBACK}?state={sent['state']}&code=c")
            assert answer.status_code == 303
            form, authorization = front.received[-1]
            digest = hashlib.sha256(form["code_verifier"].encode()).digest()
            assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == sent["code_challenge"]
            # A public client names itself in the form and sends no secret.
            assert form["client_id"] == CONSOLE_CLIENT and authorization == ""

    with front.server:
        asyncio.run(scenario())


def test_sign_out_ends_the_session_and_links_to_the_providers_sign_out(
    provider: RunningProvider, sqlite_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        settings = {"identity": console_identity(provider.issuer), "console_public_url": PUBLIC}
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool", **settings) as console:
            client, _ = await sign_in(console, "claire")
            page = await client.get("/console/me")
            out = await client.post("/console/sign-out", data={"csrf": hidden(page.text, "csrf")})
            assert out.status_code == 303
            assert out.headers["location"] == "/console/sign-in?signed_out=0"
            after = await client.get(out.headers["location"])
            end_session = f"{provider.issuer}/session/end?client_id={CONSOLE_CLIENT}"
            assert f'href="{end_session}"' in after.text
            assert (await client.get("/console/me")).status_code == 303  # session gone

    asyncio.run(scenario())


def test_under_a_sub_path_the_redirect_uri_and_cookies_carry_it(
    provider: RunningProvider, sqlite_url: str, migrated_sqlite: Path, tmp_path: Path
) -> None:
    async def scenario() -> None:
        settings = {
            "identity": console_identity(provider.issuer),
            "console_public_url": f"{PUBLIC}/ia",
            "root_path": "/ia",
        }
        async with open_console(sqlite_url, CATALOG, tmp_path / "spool", **settings) as console:
            _, answer = await sign_in(console, "bob")
            assert answer.status_code == 303, answer.text
            assert answer.headers["location"] == "/ia/console/overview"
            assert "Path=/ia/console/" in answer.headers["set-cookie"]
        # Without a public address, the redirect URI is the address the request came to.
        settings.pop("console_public_url")
        (tmp_path / "second").mkdir()
        second = sqlite_copy(migrated_sqlite, tmp_path / "second")
        async with open_console(second, CATALOG, tmp_path / "spool2", **settings) as console:
            sent = await start(console.client(), "/ia")
            assert sent["redirect_uri"] == "https://hygie.test/ia/console/sign-in/callback"

    asyncio.run(scenario())


def test_started_sign_ins_expire_are_taken_once_and_stay_bounded() -> None:
    now = [1000.0]
    pending = PendingLogins(clock=lambda: now[0])
    state, entry = pending.start(0, "browser-a", CALLBACK)
    assert entry.nonce != entry.verifier and len(state) >= 43
    assert pending.take(state, "browser-b") is None  # another browser: refused, and burned
    assert pending.take(state, "browser-a") is None
    state, _ = pending.start(0, "browser-a", CALLBACK)
    now[0] += PENDING_TTL_S + 1
    assert pending.take(state, "browser-a") is None  # too late
    state, entry = pending.start(0, "browser-a", CALLBACK)
    assert pending.take(state, "browser-a") == entry
    assert pending.take(state, "browser-a") is None  # once only
    for _ in range(MAX_PENDING + 50):
        pending.start(0, "flood", CALLBACK)
    assert len(pending) == MAX_PENDING
    digest = hashlib.sha256(b"verifier").digest()
    assert pkce_challenge("verifier") == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
