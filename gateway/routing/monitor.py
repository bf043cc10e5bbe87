"""Background watch of every replica: its load (``/metrics``) and its health (``/health``).

Created once at start with the shared aiohttp session; :meth:`ReplicaMonitor.start` launches two
asyncio tasks, :meth:`ReplicaMonitor.stop` cancels them. Replicas that share a server (two
deployments or models on one vLLM process) are fetched once per round.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence

import aiohttp

from gateway.routing.load_signals import next_sample, parse_vllm_load
from gateway.routing.options import RoutingOptions
from gateway.routing.replicas import Replica
from gateway.supervisor import start_supervised

# The shared session does not decompress (it forwards bodies as they are); ask for plain text.
_PLAIN = {"Accept-Encoding": "identity"}


class ReplicaMonitor:
    """Polls metrics every ``metrics_interval_s`` and health every ``health_interval_s``."""

    def __init__(
        self,
        replicas: Sequence[Replica],
        session: aiohttp.ClientSession,
        options: RoutingOptions,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session
        self._options = options
        self._clock = clock
        self._by_root: dict[str, list[Replica]] = defaultdict(list)
        for replica in replicas:
            self._by_root[replica.root_url].append(replica)
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start both loops (call from the running event loop; a second call does nothing)."""
        if self._tasks:
            return
        self._tasks = [
            start_supervised(
                "hygie-replica-metrics",
                lambda: self._every(self._options.metrics_interval_s, self.poll_metrics),
            ),
            start_supervised(
                "hygie-replica-health",
                lambda: self._every(self._options.health_interval_s, self.check_health),
            ),
        ]

    async def stop(self) -> None:
        """Cancel both loops and wait for them to end."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        # Results are the tasks' CancelledErrors; a cancellation of stop() itself still raises.
        await asyncio.gather(*tasks, return_exceptions=True)

    async def poll_metrics(self) -> None:
        """Read every server's ``/metrics`` once; a replica that cannot be read keeps its old
        reading, which goes stale."""
        await asyncio.gather(*(self._read_metrics(root) for root in self._by_root))

    async def check_health(self) -> None:
        """Check every server's ``/health`` once and record the result on its replicas."""
        await asyncio.gather(*(self._check(root) for root in self._by_root))

    async def _read_metrics(self, root: str) -> None:
        timeout = aiohttp.ClientTimeout(total=self._options.metrics_timeout_s)
        try:
            async with self._session.get(
                f"{root}/metrics", headers=_PLAIN, timeout=timeout
            ) as response:
                if response.status != 200:
                    return
                text = (await response.read()).decode("utf-8", errors="replace")
        except (aiohttp.ClientError, TimeoutError):
            return
        now = self._clock()
        for replica in self._by_root[root]:
            load = parse_vllm_load(text, replica.served_model)
            if load is not None:
                replica.load = next_sample(replica.load, load, now, replica.in_flight)

    async def _check(self, root: str) -> None:
        timeout = aiohttp.ClientTimeout(total=self._options.health_timeout_s)
        try:
            async with self._session.get(f"{root}/health", timeout=timeout) as response:
                ok = response.status == 200
                await response.read()
        except (aiohttp.ClientError, TimeoutError):
            ok = False
        for replica in self._by_root[root]:
            replica.health.record_check(ok, self._options)

    async def _every(self, interval_s: float, round_: Callable[[], Awaitable[None]]) -> None:
        while True:
            started = time.monotonic()
            await round_()
            await asyncio.sleep(max(0.0, interval_s - (time.monotonic() - started)))
