"""Long requests are scanned off the event loop: the gateway keeps answering meanwhile."""

from __future__ import annotations

import asyncio
import contextvars
import json
import threading
import time
from typing import Any

import httpx
import pytest

from gateway.http.local_server import BackgroundServer
from gateway.steps.scan_worker import ScanWorker
from policies.phi import PhiDetector
from tests.conftest import CHAT_MODEL, GatewayFactory, make_catalog
from tests.phi.make_corpus import CORPUS_PATH

_REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


def _where() -> tuple[str, str]:
    return threading.current_thread().name, _REQUEST_ID.get()


def test_small_bodies_are_scanned_inline_and_large_ones_on_the_worker() -> None:
    async def scan_both() -> tuple[tuple[str, str], tuple[str, str]]:
        worker = ScanWorker(min_bytes=1000)
        _REQUEST_ID.set("req-1")
        try:
            return await worker.run(999, _where), await worker.run(1000, _where)
        finally:
            worker.close()

    inline, offloaded = asyncio.run(scan_both())
    assert inline == (threading.current_thread().name, "req-1")
    # The worker sees the caller's context (trace context, request id).
    assert offloaded[0].startswith("hygie-scan") and offloaded[1] == "req-1"


def test_a_failing_scan_raises_in_the_caller() -> None:
    def fail() -> None:
        raise ValueError("detector bug")

    async def scan() -> None:
        worker = ScanWorker(min_bytes=0)
        try:
            await worker.run(10, fail)
        finally:
            worker.close()

    with pytest.raises(ValueError, match="detector bug"):
        asyncio.run(scan())


def _long_record(characters: int) -> str:
    """Corpus documents, with and without identifiers, repeated up to ``characters``."""
    texts = [json.loads(line)["text"] for line in CORPUS_PATH.read_text("utf-8").splitlines()]
    record = "\n\n".join(texts)
    return (record * (characters // len(record) + 1))[:characters]


def _poll_health(url: str, stop: threading.Event, latencies: list[float]) -> None:
    with httpx.Client(timeout=30) as client:
        while not stop.is_set():
            started = time.perf_counter()
            client.get(f"{url}/healthz").raise_for_status()
            latencies.append(time.perf_counter() - started)


@pytest.mark.slow
@pytest.mark.parametrize("scan_on_worker", [True, False], ids=["worker", "inline-control"])
def test_the_gateway_answers_others_while_it_scans_a_long_record(
    simulator: BackgroundServer,
    start_gateway: GatewayFactory,
    sqlite_url: str,
    scan_on_worker: bool,
) -> None:
    record = _long_record(3_000_000)
    began = time.perf_counter()
    PhiDetector().detect(record)
    scan_s = time.perf_counter() - began
    # The control scans inline: it shows that the probe below does see a stalled loop.
    threshold: dict[str, Any] = {} if scan_on_worker else {"scan_thread_min_bytes": 1 << 30}
    gw = start_gateway(make_catalog(simulator.url), sqlite_url, **threshold)
    body = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": record}]}

    stop = threading.Event()
    latencies: list[float] = []
    poller = threading.Thread(target=_poll_health, args=(gw.url, stop, latencies))
    poller.start()
    try:
        time.sleep(0.2)  # the poller is running before the long request arrives
        answer = httpx.post(
            f"{gw.base_url}/policy/explain",
            json=body,
            headers={"Authorization": f"Bearer {gw.key}"},
            timeout=60,
        )
    finally:
        stop.set()
        poller.join()

    assert answer.status_code == 200
    assert answer.json()["data_class"] == "health"
    slowest = max(latencies)
    # On the worker, the loop waits only for the scan's longest single call into C (a regex
    # over the whole text holds the interpreter lock) and for this test process's garbage
    # collections: a fraction of the scan.
    if scan_on_worker:
        assert slowest < scan_s / 2, (slowest, scan_s)
    else:
        assert slowest > scan_s / 2, (slowest, scan_s)


def test_a_long_chat_request_is_scanned_on_the_worker_and_forwarded(
    simulator: BackgroundServer, start_gateway: GatewayFactory, sqlite_url: str
) -> None:
    gw = start_gateway(make_catalog(simulator.url), sqlite_url, scan_thread_min_bytes=1024)
    note = "Résume : Mme Jeanne DUPONT, née le 12/03/1956, douleur thoracique. " * 40
    reply = gw.sdk().chat.completions.with_raw_response.create(
        model=CHAT_MODEL, messages=[{"role": "user", "content": note}], max_tokens=8
    )
    assert reply.http_response.status_code == 200
    [record] = gw.records([reply.headers["x-request-id"]])
    assert record.data_class == "health" and (record.entity_counts or {}).get("PERSON", 0) >= 1
    # The step's duration is exposed to the operator, once per request.
    metrics = httpx.get(f"{gw.url}/metrics", timeout=5).text
    assert "hygie_policy_step_seconds_count 1.0" in metrics
