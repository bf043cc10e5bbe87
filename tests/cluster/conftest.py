"""Several real gateway processes sharing one PostgreSQL and one Redis, on loopback."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from gateway.http.local_server import BackgroundServer, free_port
from hygie_simulator import create_simulator_app
from tests.conftest import CHAT_MODEL, seed_key, simulator_config
from tests.polling import wait_until
from tests.services import create_postgres_database, drop_postgres_database, unavailable

ADMIN_TOKEN = "cluster-admin-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@dataclass
class PrivateRedis:
    """A redis-server of our own, so a test may stop and restart it."""

    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("the redis-server binary")
        assert binary is not None
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def answers() -> bool:
            with redis.Redis(port=self.port) as client:
                try:
                    return bool(client.ping())
                except redis.exceptions.ConnectionError:
                    return False

        wait_until(answers, message="redis-server answers")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(migrated_postgres: str) -> Iterator[str]:
    url, name = create_postgres_database(template=migrated_postgres)
    try:
        yield url
    finally:
        drop_postgres_database(name)


@pytest.fixture(scope="module")
def slow_simulator() -> Iterator[BackgroundServer]:
    """Answers take ~0.1 s, so requests are in flight when a gateway is killed."""
    config = simulator_config(time_to_first_token_ms=20, inter_token_ms=4)
    with BackgroundServer(create_simulator_app(config)) as server:
        yield server


@dataclass
class GatewayProcess:
    port: int
    spool_dir: Path
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Cluster:
    database_url: str
    redis_url: str
    key: str
    gateways: list[GatewayProcess] = field(default_factory=list)

    def alive(self) -> list[GatewayProcess]:
        return [g for g in self.gateways if g.process.poll() is None]


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    def ready() -> bool:
        if process.poll() is not None:
            tail = log.read_text()[-3000:]
            raise RuntimeError(f"gateway exited early ({process.returncode}):\n{tail}")
        try:
            return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(ready, timeout_s=60, message=f"gateway at {url} is ready")


def wait_for_limits(cluster: Cluster, applied: dict[str, str]) -> None:
    """Until every live gateway applies the limits saved through one of them: for each level of
    ``applied``, the field named there is set. ``GET /v1/me`` shows the limits a gateway has
    loaded (each reloads them every ``HYGIE_QUOTA_REFRESH_S``)."""

    def everywhere() -> bool:
        for gateway in cluster.alive():
            me = httpx.get(
                f"{gateway.url}/v1/me", headers={"Authorization": f"Bearer {cluster.key}"}
            )
            levels = {entry["level"]: entry for entry in me.json()["limits"]}
            if any(levels.get(level, {}).get(field) is None for level, field in applied.items()):
                return False
        return True

    wait_until(everywhere, message=f"every gateway applies {applied}")


def wait_in_sync(url: str) -> dict[str, Any]:
    """The reconciliation of ``url`` once the counters match the ledger (other gateways' ledger
    writers flush within ``HYGIE_LEDGER_FLUSH_INTERVAL_S``)."""
    reports: list[dict[str, Any]] = []

    def in_sync() -> bool:
        reports.append(httpx.get(f"{url}/admin/quotas/reconcile", headers=ADMIN).json())
        return bool(reports[-1]["in_sync"])

    try:
        wait_until(in_sync, timeout_s=5, message="counters and ledger agree")
    except TimeoutError:
        raise AssertionError(f"drift: {reports[-1]}") from None
    return reports[-1]


@pytest.fixture
def start_cluster(
    tmp_path: Path, slow_simulator: BackgroundServer, postgres_url: str, private_redis: PrivateRedis
) -> Iterator[Callable[[int], Cluster]]:
    """Start N ``hygie serve`` processes on one PostgreSQL database and one Redis."""
    config = tmp_path / "config.yaml"
    config.write_text(
        f"models:\n  - name: {CHAT_MODEL}\n    deployments:\n      - name: sim\n"
        f"        replicas: ['{slow_simulator.url}/v1']\n"
        "        hosting: {class: on_premise, cleared_for: [public, internal, personal, health]}\n"
        f"prices:\n  {CHAT_MODEL}: {{input: '1000', output: '1000'}}\n"
    )
    key, _ = asyncio.run(seed_key(postgres_url))
    cluster = Cluster(postgres_url, private_redis.url, key)

    def start(count: int) -> Cluster:
        for _ in range(count):
            port = free_port()
            spool = tmp_path / f"journal-{port}"
            log = tmp_path / f"gateway-{port}.log"
            env = {
                **os.environ,
                "HYGIE_CONFIG": str(config),
                "HYGIE_DATABASE_URL": postgres_url,
                "HYGIE_REDIS_URL": private_redis.url,
                "HYGIE_PORT": str(port),
                "HYGIE_SPOOL_DIR": str(spool),
                "HYGIE_ADMIN_TOKEN": ADMIN_TOKEN,
                "HYGIE_AUTO_MIGRATE": "false",
                "HYGIE_LEDGER_FLUSH_INTERVAL_S": "0.05",
                "HYGIE_QUOTA_REFRESH_S": "0.2",
                "HYGIE_GRACEFUL_SHUTDOWN_S": "10",
            }
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "gateway.cli", "serve"],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            gateway = GatewayProcess(port, spool, process, log)
            cluster.gateways.append(gateway)
        for gateway in cluster.gateways:
            _wait_healthy(gateway.url, gateway.process, gateway.log)
        return cluster

    yield start
    for gateway in cluster.gateways:
        if gateway.process.poll() is None:
            gateway.process.send_signal(signal.SIGTERM)
    for gateway in cluster.gateways:
        try:
            gateway.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            gateway.process.kill()
            gateway.process.wait()
