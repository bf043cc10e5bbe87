"""An authenticator with one API key and one real RS256 token, without database or provider
process: the key set is served by a small local HTTP server, users are synced in memory."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from billing.directory import Department, Principal, User
from gateway.http.local_server import BackgroundServer
from gateway.identity.assembly import build_token_authenticator
from gateway.identity.claims import Identity
from gateway.identity.config import IdentityConfig
from gateway.identity.provider_http import ProviderHttp
from gateway.steps.api_keys import generate_key
from gateway.steps.auth import Authenticator

AUDIENCE = "hygie-gateway"


@dataclass
class BenchIdentity:
    authenticator: Authenticator
    key_header: str
    token_header: str
    issuer: str
    private_key: rsa.RSAPrivateKey

    def fresh_token_header(self, n: int) -> str:
        return "Bearer " + _token(self.private_key, self.issuer, jti=f"fresh-{n}")


def _token(private_key: rsa.RSAPrivateKey, issuer: str, *, jti: str) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": "bench-user",
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 600,
        "jti": jti,
        "preferred_username": "bench.user",
        "department": "cardiologie",
    }
    return jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": "bench"})


@asynccontextmanager
async def bench_identity() -> AsyncIterator[BenchIdentity]:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_jwk = jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    public_jwk.update(kid="bench", use="sig", alg="RS256")
    holder: dict[str, str] = {}

    async def discovery(request: Request) -> JSONResponse:
        return JSONResponse({"issuer": holder["url"], "jwks_uri": holder["url"] + "/jwks"})

    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse({"keys": [public_jwk]})

    app = Starlette(
        routes=[Route("/.well-known/openid-configuration", discovery), Route("/jwks", jwks)]
    )
    with BackgroundServer(app) as server:
        holder["url"] = server.url
        config = IdentityConfig.model_validate(
            {"issuers": [{"issuer": server.url, "audience": AUDIENCE}]}
        )
        key = generate_key()
        owner = Principal("key_bench", 1, "bench.user", "member", 1, "cardiologie", None, None)

        async def lookup(digest: str) -> Principal | None:
            return owner if digest == key.key_hash else None

        async def sync(identity: Identity) -> tuple[User, Department]:
            return (
                User(1, identity.username, identity.display_name, identity.role, 1),
                Department(1, identity.department, identity.department, None),
            )

        http = ProviderHttp(timeout_s=2)
        try:
            tokens = build_token_authenticator(config, http, sync)
            yield BenchIdentity(
                Authenticator(lookup, ttl_s=3600, tokens=tokens),
                "Bearer " + key.secret,
                "Bearer " + _token(private_key, server.url, jti="cached"),
                server.url,
                private_key,
            )
        finally:
            await http.close()
