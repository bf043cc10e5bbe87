"""Benchmark (not a test): added latency of a token vs a key through a real gateway, at c=1.

A gateway (SQLite, the simulated vLLM) runs in this process; one client sends requests one at a
time, alternating an API key and an RS256 token of the same user, so both see the same machine
load. Reports the median latency of ``GET /v1/models`` (authentication and little else) and of
a chat completion, per credential, and their difference.

Run: .venv/bin/python -m tests.benchmarks.identity_http_bench [--requests 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from billing.db.migrate import upgrade_to_head
from gateway.app import create_app
from gateway.http.local_server import BackgroundServer
from gateway.settings import Settings
from hygie_simulator import create_simulator_app
from tests.conftest import CHAT_MODEL, make_catalog, seed_key, simulator_config


def _jwks_server(private_key: rsa.RSAPrivateKey) -> BackgroundServer:
    public = jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    public.update(kid="bench", use="sig", alg="RS256")
    server: BackgroundServer

    async def discovery(request: Request) -> JSONResponse:
        return JSONResponse({"issuer": server.url, "jwks_uri": server.url + "/jwks"})

    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse({"keys": [public]})

    server = BackgroundServer(
        Starlette(
            routes=[Route("/.well-known/openid-configuration", discovery), Route("/jwks", jwks)]
        )
    )
    return server


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with tempfile.TemporaryDirectory() as folder, _jwks_server(private_key) as idp:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        upgrade_to_head(url)
        key, _ = asyncio.run(seed_key(url, department="cardiologie", user="dr.bench"))
        now = int(time.time())
        claims = {
            "iss": idp.url,
            "sub": "b",
            "aud": "hygie-gateway",
            "iat": now,
            "exp": now + 3600,
            "preferred_username": "dr.bench",
            "department": "cardiologie",
        }
        token = jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": "bench"})
        identity = {"issuers": [{"issuer": idp.url, "audience": "hygie-gateway"}]}
        sim = BackgroundServer(
            create_simulator_app(simulator_config(time_to_first_token_ms=0, inter_token_ms=0))
        )
        with sim:
            settings = Settings(
                database_url=url,
                spool_dir=Path(folder) / "spool",
                identity=identity,
            )
            with BackgroundServer(create_app(settings, make_catalog(sim.url), migrate=False)) as gw:
                figures = _measure(gw.url, key, token, args.requests)
    for what, (key_ms, token_ms) in figures.items():
        print(
            f"{what:<18} key p50 {key_ms:7.3f} ms   token p50 {token_ms:7.3f} ms   "
            f"token - key {token_ms - key_ms:+7.3f} ms"
        )


def _measure(url: str, key: str, token: str, n: int) -> dict[str, tuple[float, float]]:
    chat = {
        "model": CHAT_MODEL,
        "messages": [{"role": "user", "content": "Bonjour"}],
        "max_tokens": 1,
    }
    results: dict[str, tuple[float, float]] = {}
    with httpx.Client(base_url=url) as client:
        senders: dict[str, Callable[[dict[str, str]], httpx.Response]] = {
            "GET /v1/models": lambda h: client.get("/v1/models", headers=h),
            "chat completion": lambda h: client.post("/v1/chat/completions", headers=h, json=chat),
        }
        for what, send in senders.items():
            timings: dict[str, list[float]] = {key: [], token: []}
            for i in range(n * 2 + 20):
                credential = key if i % 2 else token
                started = time.perf_counter()
                response = send({"authorization": f"Bearer {credential}"})
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, response.text
                if i >= 20:  # warm-up: connections, caches, the first token check
                    timings[credential].append(elapsed)
            results[what] = (_median_ms(timings[key]), _median_ms(timings[token]))
    return results


if __name__ == "__main__":
    main()
