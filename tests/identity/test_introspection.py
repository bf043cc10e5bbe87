"""Opaque tokens, checked through RFC 7662 introspection: the real provider's refresh tokens
are refused as access tokens; an active opaque access token is served, once per cache period."""

from __future__ import annotations

import time
import urllib.parse

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.http.local_server import BackgroundServer
from tests.conftest import CHAT_MODEL, GatewayFactory, make_catalog
from tests.identity.conftest import identity_settings
from tests.identity.oidc.oidc_provider import RunningProvider, login

MESSAGES = [{"role": "user", "content": "Bonjour"}]
INTROSPECTION = {
    "introspection_client_id": "hygie-gateway",
    "introspection_client_secret": "hygie-gateway-secret",
}


def _chat(url: str, token: str) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/chat/completions",
        headers={"authorization": f"Bearer {token}"},
        json={"model": CHAT_MODEL, "messages": MESSAGES, "max_tokens": 4},
    )


def test_a_refresh_token_is_not_an_access_token(
    oidc: RunningProvider,
    simulator: BackgroundServer,
    start_gateway: GatewayFactory,
    sqlite_url: str,
) -> None:
    identity = identity_settings(oidc.issuer, **INTROSPECTION)
    gw = start_gateway(make_catalog(simulator.url), sqlite_url, identity=identity)
    tokens = login(oidc.issuer, "hygie-cli", "alice", "alice-password")
    refused = _chat(gw.url, tokens["refresh_token"])
    assert refused.status_code == 401, refused.text
    assert _chat(gw.url, tokens["access_token"]).status_code == 200


class OpaqueProvider:
    """A provider whose access tokens are opaque: discovery and an introspection endpoint."""

    def __init__(self) -> None:
        self.asked = 0
        self.server = BackgroundServer(
            Starlette(
                routes=[
                    Route("/.well-known/openid-configuration", self.discovery),
                    Route("/introspect", self.introspect, methods=["POST"]),
                ]
            )
        )

    async def discovery(self, request: Request) -> JSONResponse:
        url = self.server.url
        return JSONResponse(
            {
                "issuer": url,
                "jwks_uri": f"{url}/jwks",
                "introspection_endpoint": f"{url}/introspect",
            }
        )

    async def introspect(self, request: Request) -> JSONResponse:
        self.asked += 1
        if request.headers.get("authorization", "").lower().startswith("basic ") is False:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        form = urllib.parse.parse_qs((await request.body()).decode())
        if form.get("token") != ["opaque-access-token-of-alice"]:
            return JSONResponse({"active": False})
        return JSONResponse(
            {
                "active": True,
                "token_type": "access_token",
                "sub": "alice-subject",
                "preferred_username": "alice",
                "department": "cardiologie",
                "client_id": "hygie-cli",
                "aud": "hygie-gateway",
                "exp": int(time.time()) + 600,
            }
        )


def test_an_active_opaque_token_is_served_and_its_answer_cached(
    simulator: BackgroundServer, start_gateway: GatewayFactory, sqlite_url: str
) -> None:
    provider = OpaqueProvider()
    with provider.server:
        identity = identity_settings(provider.server.url, **INTROSPECTION)
        gw = start_gateway(make_catalog(simulator.url), sqlite_url, identity=identity)
        for _ in range(3):
            assert _chat(gw.url, "opaque-access-token-of-alice").status_code == 200
        assert provider.asked == 1
        assert _chat(gw.url, "opaque-but-inactive").status_code == 401
