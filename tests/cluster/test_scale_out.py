"""Three gateways on one Redis and one PostgreSQL: kill one, stop another, lose nothing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from billing.db.database import make_engine
from billing.ledger import repository as ledger
from tests.cluster.conftest import ADMIN, Cluster, GatewayProcess, wait_for_limits
from tests.conftest import CHAT_MODEL
from tests.polling import wait_until

pytestmark = pytest.mark.slow  # real gateway processes, PostgreSQL and Redis

MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "Rédige une consigne de surveillance post-opératoire."}
]


async def load(
    cluster: Cluster, seconds: float, events: dict[float, Callable[[], None]]
) -> dict[str, str]:
    """Concurrent requests over the live gateways for ``seconds``; returns id → gateway url
    for every request that received a complete response."""
    answered: dict[str, str] = {}
    clients = {
        g.url: openai.AsyncOpenAI(base_url=f"{g.url}/v1", api_key=cluster.key, max_retries=0)
        for g in cluster.gateways
    }
    deadline = time.monotonic() + seconds
    counter = 0

    async def worker(n: int) -> None:
        nonlocal counter
        while time.monotonic() < deadline:
            alive = cluster.alive()
            if not alive:
                return
            counter += 1
            gateway = alive[(counter + n) % len(alive)]
            client = clients[gateway.url]
            try:
                if counter % 2:
                    raw = await client.chat.completions.with_raw_response.create(
                        model=CHAT_MODEL, messages=MESSAGES, max_tokens=5
                    )
                    answered[raw.headers["x-request-id"]] = gateway.url
                else:
                    async with client.chat.completions.with_streaming_response.create(
                        model=CHAT_MODEL, messages=MESSAGES, max_tokens=5, stream=True
                    ) as response:
                        async for _ in await response.parse():
                            pass
                        answered[response.headers["x-request-id"]] = gateway.url
            except openai.APIStatusError as error:
                answered[error.response.headers["x-request-id"]] = gateway.url
            except (openai.APIConnectionError, httpx.TransportError):
                await asyncio.sleep(0.01)  # that gateway is gone: a load balancer would move on

    async def scheduler() -> None:
        start = time.monotonic()
        for at, action in sorted(events.items()):
            await asyncio.sleep(max(0.0, start + at - time.monotonic()))
            action()

    try:
        await asyncio.gather(scheduler(), *(worker(n) for n in range(12)))
    finally:
        for client in clients.values():
            await client.close()
    return answered


def replay_journal(cluster: Cluster, gateway: GatewayProcess) -> None:
    env = {**os.environ, "HYGIE_DATABASE_URL": cluster.database_url}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "ledger",
            "replay",
            "--spool-dir",
            str(gateway.spool_dir),
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )


def test_kill_one_stop_another_and_nothing_is_lost(start_cluster: Callable[[int], Cluster]) -> None:
    cluster = start_cluster(3)
    killed, stopped, survivor = cluster.gateways
    httpx.put(
        f"{survivor.url}/admin/quotas",
        headers=ADMIN,
        json={
            "level": "department",
            "department": "cardiologie",
            "budget_eur": "2",
            "period": "day",
        },
    ).raise_for_status()
    wait_for_limits(cluster, {"department": "budget_eur"})

    answered = asyncio.run(
        load(
            cluster,
            5.0,
            {
                1.5: lambda: killed.process.send_signal(signal.SIGKILL),
                2.5: lambda: stopped.process.send_signal(signal.SIGTERM),
            },
        )
    )
    assert stopped.process.wait(timeout=30) in (0, -signal.SIGTERM)
    assert killed.process.poll() == -signal.SIGKILL
    by_gateway = {g.url: sum(1 for u in answered.values() if u == g.url) for g in cluster.gateways}
    assert all(by_gateway.values()), by_gateway  # all three served before the kill

    # The killed gateway's journal holds what it answered but had not stored yet.
    replay_journal(cluster, killed)

    async def stored() -> dict[str, int]:
        engine = make_engine(cluster.database_url)
        try:
            records = await ledger.records_by_id(engine, list(answered))
            return {r.request_id: r.status_code for r in records}
        finally:
            await engine.dispose()

    # The survivor's writer flushes within its interval: wait until nothing is missing.
    in_ledger: dict[str, int] = {}

    def complete() -> bool:
        in_ledger.update(asyncio.run(stored()))
        return set(answered) <= set(in_ledger)

    with contextlib.suppress(TimeoutError):
        wait_until(complete, timeout_s=5, interval_s=0.1)
    missing = set(answered) - set(in_ledger)
    assert not missing, f"{len(missing)} answered requests are not in the ledger"

    # The survivor keeps serving, and the budget held across the whole cluster.
    client = openai.OpenAI(base_url=f"{survivor.url}/v1", api_key=cluster.key, max_retries=0)
    with client, contextlib.suppress(openai.RateLimitError):  # a spent budget is an answer too
        client.chat.completions.create(model=CHAT_MODEL, messages=MESSAGES, max_tokens=2)
    [department] = httpx.get(f"{survivor.url}/admin/quotas", headers=ADMIN).json()["data"]
    assert Decimal(department["spent_eur"]) <= Decimal("2")
