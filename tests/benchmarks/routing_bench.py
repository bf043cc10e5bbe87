"""Time to first token under three replica-selection strategies (a script, not a test).

    python tests/benchmarks/routing_bench.py [--requests 400] [--rate 40]

Starts three simulated vLLM replicas in their own processes on loopback: one three times slower
(``speed_factor`` 1/3: the simulator *divides* its delays by the factor) with only 4 sequence
slots, so it queues; two normal ones with 16 slots. Then, for each strategy in turn — (a)
round-robin, (b) least outstanding requests, (c) the vLLM-aware picker (metrics polled every
second, as in the gateway) — a fresh :class:`Router` serves the same open-loop load: N
streaming chat requests arriving as a Poisson process (independent users; the same seeded
arrival times for each strategy). It prints the median, p90 and p99 time to first token and
each replica's share.

The router is driven directly (no HTTP gateway in front): the gateway adds the same small
overhead to every strategy (authentication, ledger), and leaving it out keeps the two shared
CPU cores for the replicas, so the differences measured are those of the routing choices.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp
import orjson

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from gateway.backends.forward import Forward  # noqa: E402
from gateway.backends.registry import build_backends  # noqa: E402
from gateway.backends.vllm import OpenAICompatibleClient, make_session  # noqa: E402
from gateway.catalog import Catalog, parse_catalog  # noqa: E402
from gateway.http.local_server import free_port  # noqa: E402
from gateway.http.openai_request import parse_call  # noqa: E402
from gateway.routing.options import RoutingOptions  # noqa: E402
from gateway.routing.replicas import LeastOutstandingPicker, Picker, RoundRobinPicker  # noqa: E402
from gateway.routing.router import Attempts, Router  # noqa: E402
from hygie_simulator import SimulatorConfig, serve_simulator  # noqa: E402

MODEL = "llama-3-8b"
TIMING = {"time_to_first_token_ms": 40.0, "inter_token_ms": 10.0, "default_output_tokens": 32}
REPLICAS = {
    "slow": {"speed_factor": 1 / 3, "max_num_seqs": 4},
    "normal-1": {"speed_factor": 1.0, "max_num_seqs": 16},
    "normal-2": {"speed_factor": 1.0, "max_num_seqs": 16},
}


def _serve(overrides: dict[str, float], port: int) -> None:
    config = SimulatorConfig.model_validate(
        {**TIMING, **overrides, "models": [{"name": MODEL, "kind": "chat"}]}
    )
    serve_simulator(config, "127.0.0.1", port)


async def _wait_ready(session: aiohttp.ClientSession, urls: list[str]) -> None:
    for url in urls:
        for _ in range(300):
            try:
                async with session.get(f"{url}/health") as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
        else:
            raise RuntimeError(f"simulator {url} did not start")


async def _one(router: Router, forward: Forward, shares: Counter[str]) -> float:
    started = time.perf_counter()
    response, replica = await router.open_stream(forward, router.all_replicas(), Attempts())
    try:
        first: float | None = None
        async for chunk in response.chunks():
            if first is None and b"data: " in chunk:
                first = time.perf_counter() - started
        shares[replica.base_url] += 1
        return first if first is not None else time.perf_counter() - started
    finally:
        response.release()
        router.stream_finished(replica)


async def _run(
    name: str,
    picker: Picker | None,
    catalog: Catalog,
    labels: dict[str, str],
    args: argparse.Namespace,
) -> None:
    session = make_session()
    router = Router(
        catalog,
        build_backends(catalog, OpenAICompatibleClient(session), {}, None),
        options=RoutingOptions(),
        picker=picker,
    )
    monitor = router.monitor(session)
    if picker is None:
        await monitor.poll_metrics()  # the gateway's poller has been running since start
        monitor.start()
    body = {"model": MODEL, "messages": [{"role": "user", "content": "Bonjour"}], "stream": True}
    forward = Forward(parse_call("chat", orjson.dumps(body)))
    ttfts: list[float] = []
    shares: Counter[str] = Counter()
    arrivals = random.Random(args.seed)  # the same arrival times for every strategy

    async def request() -> None:
        ttfts.append(await _one(router, forward, shares))

    started = time.perf_counter()
    tasks = []
    for _ in range(args.requests):
        tasks.append(asyncio.create_task(request()))
        await asyncio.sleep(arrivals.expovariate(args.rate))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    await monitor.stop()
    await session.close()
    ttfts.sort()
    share = ", ".join(f"{labels[url]} {shares[url]}" for url in labels)
    print(
        f"{name:<28} TTFT median {statistics.median(ttfts) * 1000:6.0f} ms  "
        f"p90 {_quantile(ttfts, 0.9) * 1000:6.0f} ms  p99 {_quantile(ttfts, 0.99) * 1000:6.0f} ms"
        f"  ({elapsed:4.1f} s; {share})"
    )


def _quantile(ordered: list[float], q: float) -> float:
    """Nearest-rank quantile of sorted values."""
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


async def _bench(args: argparse.Namespace, urls: dict[str, str]) -> None:
    async with aiohttp.ClientSession() as session:
        await _wait_ready(session, list(urls.values()))
    catalog = parse_catalog(
        {
            "models": [
                {
                    "name": MODEL,
                    "deployments": [
                        {"name": "sim", "replicas": [f"{u}/v1" for u in urls.values()]}
                    ],
                }
            ]
        }
    )
    labels = {f"{url}/v1": name for name, url in urls.items()}
    print(
        f"{args.requests} streaming requests, Poisson arrivals at {args.rate:g}/s; replicas: "
        + "; ".join(
            f"{n} speed {c['speed_factor']:.2f} slots {c['max_num_seqs']}"
            for n, c in REPLICAS.items()
        )
    )
    await _run("(a) round-robin", RoundRobinPicker(), catalog, labels, args)
    await _run("(b) least outstanding", LeastOutstandingPicker(), catalog, labels, args)
    await _run("(c) vLLM-aware (metrics 1 s)", None, catalog, labels, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rate", type=float, default=40.0, help="arrivals per second (Poisson)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    ports = {name: free_port() for name in REPLICAS}
    processes = [
        context.Process(target=_serve, args=(REPLICAS[name], port), daemon=True)
        for name, port in ports.items()
    ]
    for process in processes:
        process.start()
    try:
        asyncio.run(
            _bench(args, {name: f"http://127.0.0.1:{port}" for name, port in ports.items()})
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(5)


if __name__ == "__main__":
    main()
