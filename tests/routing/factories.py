"""Factories of the routing suite: simulated vLLM replicas on loopback, a router in front.

Every test builds its own router (fresh health and budget state) and reads what the replicas
received from their ``/sim/stats``, so no test depends on another's traffic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import aiohttp
import orjson

from gateway.backends.forward import Forward
from gateway.backends.registry import build_backends
from gateway.backends.vllm import DEFAULT_MAX_ANSWER_BYTES, OpenAICompatibleClient
from gateway.catalog import Catalog, parse_catalog
from gateway.http.local_server import BackgroundServer
from gateway.http.openai_request import parse_call
from gateway.routing.options import RoutingOptions
from gateway.routing.replicas import Picker, Replica
from gateway.routing.router import Router
from hygie_simulator import SimulatorConfig, create_simulator_app

CHAT_MODELS = ("llama-3-8b", "mistral-7b", "qwen-7b")
ON_PREM = {"class": "on_premise", "cleared_for": ["public", "internal", "personal", "health"]}
MESSAGES = [{"role": "user", "content": "Bonjour"}]


def sim_config(**overrides: Any) -> SimulatorConfig:
    """A fast simulator serving every chat model of :data:`CHAT_MODELS`."""
    base: dict[str, Any] = {
        "time_to_first_token_ms": 2,
        "inter_token_ms": 1,
        "models": [{"name": name, "kind": "chat", "max_model_len": 4096} for name in CHAT_MODELS],
    }
    return SimulatorConfig.model_validate({**base, **overrides})


@contextmanager
def simulators(*configs: SimulatorConfig) -> Iterator[list[BackgroundServer]]:
    """One running simulator per config, stopped on exit."""
    with ExitStack() as stack:
        yield [
            stack.enter_context(BackgroundServer(create_simulator_app(c), graceful_shutdown_s=1))
            for c in configs
        ]


def catalog_of(models: dict[str, dict[str, Sequence[BackgroundServer | str]]]) -> Catalog:
    """``{model: {deployment: [servers or root URLs]}}`` as a catalog (all on premise)."""
    return parse_catalog(
        {
            "models": [
                {
                    "name": model,
                    "deployments": [
                        {
                            "name": name,
                            "replicas": [f"{_root(s)}/v1" for s in servers],
                            "hosting": ON_PREM,
                        }
                        for name, servers in deployments.items()
                    ],
                }
                for model, deployments in models.items()
            ]
        }
    )


def _root(server: BackgroundServer | str) -> str:
    return server if isinstance(server, str) else server.url


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FirstPicker:
    """Always the first candidate: makes the order of attempts predictable."""

    def pick(self, pool: Sequence[Replica], affinity_key: str | None, now: float) -> Replica:
        return pool[0]


def make_router(
    catalog: Catalog,
    session: aiohttp.ClientSession,
    *,
    picker: Picker | None = None,
    clock: FakeClock | None = None,
    max_attempts: int = 3,
    max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
    **options: Any,
) -> Router:
    extra: dict[str, Any] = {"clock": clock} if clock is not None else {}
    client = OpenAICompatibleClient(session, max_answer_bytes=max_answer_bytes)
    return Router(
        catalog,
        build_backends(catalog, client, {}, None),
        max_attempts=max_attempts,
        options=RoutingOptions(**options),
        picker=picker,
        **extra,
    )


def chat(model: str = CHAT_MODELS[0], **fields: Any) -> Forward:
    """A chat request for ``model`` as the pipeline would hand it to the router."""
    body = {"model": model, "messages": MESSAGES, "max_tokens": 3, **fields}
    return Forward(parse_call("chat", orjson.dumps(body)))


def replica_at(router: Router, server: BackgroundServer, deployment: str | None = None) -> Replica:
    """The router's replica for ``server`` (in ``deployment`` when several share it)."""
    for replica in router.all_replicas():
        if replica.base_url == f"{server.url}/v1" and deployment in (None, replica.deployment.name):
            return replica
    raise LookupError(server.url)


async def chat_requests(session: aiohttp.ClientSession, server: BackgroundServer) -> int:
    """How many chat completion requests ``server`` received so far."""
    async with session.get(f"{server.url}/sim/stats") as response:
        stats = await response.json()
    return int(stats["requests"].get("/v1/chat/completions", 0))


async def reconfigure(
    session: aiohttp.ClientSession, server: BackgroundServer, **patch: Any
) -> None:
    async with session.post(f"{server.url}/sim/config", json=patch) as response:
        assert response.status == 200, await response.text()


async def requests_at(
    session: aiohttp.ClientSession, server: BackgroundServer, model: str = CHAT_MODELS[0]
) -> int:
    """Requests of ``model`` running or waiting on ``server`` right now."""
    async with session.get(f"{server.url}/sim/stats") as response:
        stats = (await response.json())["models"][model]
    return int(stats["running"] + stats["waiting"])


async def settle(
    session: aiohttp.ClientSession, server: BackgroundServer, target: int, *, at_least: bool
) -> None:
    """Wait until ``server`` holds at least (or at most) ``target`` requests."""
    # Polling is the only way to observe another process's queue.
    while True:
        held = await requests_at(session, server)
        if (held >= target) if at_least else (held <= target):
            return
        await asyncio.sleep(0.01)


async def queue_on(
    session: aiohttp.ClientSession,
    server: BackgroundServer,
    count: int,
    model: str = CHAT_MODELS[0],
) -> list[asyncio.Task[None]]:
    """Start ``count`` more long streams on ``server`` directly (another client's load), and wait
    until the server counts them running or waiting. Cancel them with :func:`release`."""

    async def stream() -> None:
        body = {"model": model, "messages": MESSAGES, "stream": True, "max_tokens": 2000}
        async with session.post(f"{server.url}/v1/chat/completions", json=body) as response:
            async for _ in response.content:
                pass

    target = await requests_at(session, server, model) + count
    tasks = [asyncio.create_task(stream()) for _ in range(count)]
    await settle(session, server, target, at_least=True)
    return tasks


async def release(
    tasks: list[asyncio.Task[None]],
    session: aiohttp.ClientSession | None = None,
    server: BackgroundServer | None = None,
) -> None:
    """Cancel held streams; with ``server``, wait until it has aborted them all."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if session is not None and server is not None:
        await settle(session, server, 0, at_least=False)
