"""The provider's keys: cached, kept while the provider is down, refreshed when they rotate,
and never fetched more than once per interval however many unknown ``kid`` values arrive."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.http.local_server import BackgroundServer
from gateway.identity.config import IssuerConfig
from gateway.identity.provider_http import ProviderHttp
from gateway.identity.signing_keys import IssuerKeys
from tests.conftest import CHAT_MODEL, GatewayFactory, make_catalog
from tests.identity import forge
from tests.identity.conftest import identity_settings
from tests.identity.oidc.oidc_provider import RunningProvider, running_provider

MESSAGES = [{"role": "user", "content": "Bonjour"}]


def _status(url: str, token: str) -> int:
    return httpx.post(
        f"{url}/v1/chat/completions",
        headers={"authorization": f"Bearer {token}"},
        json={"model": CHAT_MODEL, "messages": MESSAGES, "max_tokens": 4},
    ).status_code


def test_provider_down_then_rotated_keys(
    oidc_home: Path,
    tmp_path: Path,
    simulator: BackgroundServer,
    start_gateway: GatewayFactory,
    sqlite_url: str,
) -> None:
    first_keys, rotated_keys = tmp_path / "first.json", tmp_path / "rotated.json"
    with running_provider(oidc_home, jwks=first_keys) as provider:
        issuer = provider.issuer
        gw = start_gateway(
            make_catalog(simulator.url), sqlite_url, identity=identity_settings(issuer)
        )
        assert _status(gw.url, forge.signed(first_keys, forge.claims(issuer, jti="a"))) == 200
    # The provider is down: a new token signed with a known key is still served...
    assert _status(gw.url, forge.signed(first_keys, forge.claims(issuer, jti="b"))) == 200
    # ...and one with an unknown key is refused (the refetch fails; the old keys stay).
    assert _status(gw.url, forge.with_unknown_key(forge.claims(issuer))) == 401
    assert _status(gw.url, forge.signed(first_keys, forge.claims(issuer, jti="c"))) == 200
    port = int(issuer.rsplit(":", 1)[1])
    with running_provider(oidc_home, jwks=rotated_keys, port=port) as restarted:
        assert restarted.issuer == issuer
        # New keys, new kid: the gateway fetches the key set again on the unknown kid.
        assert _status(gw.url, forge.signed(rotated_keys, forge.claims(issuer, jti="d"))) == 200
        # The retired key is gone from the set: a fresh token signed with it is refused.
        assert _status(gw.url, forge.signed(first_keys, forge.claims(issuer, jti="e"))) == 401


class CountingProvider:
    """Discovery and a JWKS that count how often they are asked."""

    def __init__(self, jwks: dict[str, object]) -> None:
        self.jwks_fetches = 0
        self.jwks = jwks
        self.server = BackgroundServer(
            Starlette(
                routes=[
                    Route("/.well-known/openid-configuration", self.discovery),
                    Route("/jwks", self.keys),
                ]
            )
        )

    async def discovery(self, request: Request) -> JSONResponse:
        return JSONResponse({"issuer": self.server.url, "jwks_uri": f"{self.server.url}/jwks"})

    async def keys(self, request: Request) -> JSONResponse:
        self.jwks_fetches += 1
        return JSONResponse(self.jwks)


def _public(jwks_file: Path) -> dict[str, object]:
    private = ("d", "p", "q", "dp", "dq", "qi")
    keys = json.loads(jwks_file.read_text())["keys"]
    return {"keys": [{k: v for k, v in key.items() if k not in private} for key in keys]}


def test_unknown_kids_refetch_at_most_once_per_interval(
    oidc: RunningProvider, oidc_keys: Path
) -> None:
    counting = CountingProvider(_public(oidc_keys))
    with counting.server:
        issuer = IssuerConfig(issuer=counting.server.url, audience="hygie-gateway")

        async def flood() -> tuple[object, list[object]]:
            http = ProviderHttp(timeout_s=2)
            keys = IssuerKeys(issuer, http, min_refresh_s=30, max_age_s=3600)
            try:
                kid, _ = forge.provider_key(oidc_keys)
                known = await keys.key(kid)
                unknown = await asyncio.gather(*(keys.key(f"made-up-{i}") for i in range(200)))
                return known, list(unknown)
            finally:
                await http.close()

        known, unknown = asyncio.run(flood())
    assert known is not None and unknown == [None] * 200
    assert counting.jwks_fetches == 1


def test_a_discovery_naming_another_issuer_is_not_trusted(tmp_path: Path) -> None:
    counting = CountingProvider({"keys": []})
    with counting.server:
        issuer = IssuerConfig(
            issuer=counting.server.url + "/realms/other",
            audience="x",
            discovery_url=f"{counting.server.url}/.well-known/openid-configuration",
        )

        async def ask() -> object:
            http = ProviderHttp(timeout_s=2)
            try:
                return await IssuerKeys(issuer, http, min_refresh_s=0, max_age_s=60).key("any")
            finally:
                await http.close()

        assert asyncio.run(ask()) is None
    assert counting.jwks_fetches == 0
