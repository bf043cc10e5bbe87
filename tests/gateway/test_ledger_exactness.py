"""N requests → N ledger records with the right tokens, whatever the client or upstream did."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import NoReturn

import httpx
import openai
import orjson
import pytest
from openai.types.chat import ChatCompletionMessageParam

from billing.db.database import make_engine
from billing.ledger import repository as ledger
from billing.ledger.record import LedgerRecord
from gateway.app import create_app
from gateway.http.local_server import BackgroundServer, free_port
from gateway.pipeline import Pipeline
from gateway.settings import Settings
from hygie_simulator import create_simulator_app
from tests.conftest import (
    CHAT_MODEL,
    GatewayFactory,
    RunningGateway,
    make_catalog,
    seed_key,
    simulator_config,
)

MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "Quels examens pour une douleur thoracique ?"}
]


def stream_events(gw: RunningGateway, **extra: object) -> tuple[str, list[bytes]]:
    """POST a streaming chat request; return the request id and the raw SSE events."""
    body = {"model": CHAT_MODEL, "messages": MESSAGES, "stream": True, **extra}
    with httpx.stream(
        "POST",
        f"{gw.base_url}/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {gw.key}"},
        timeout=20,
    ) as response:
        assert response.status_code == 200
        data = b"".join(response.iter_bytes())
        return response.headers["x-request-id"], [e for e in data.split(b"\n\n") if e]


def test_upstream_cut_mid_stream_ends_with_an_error_event_and_the_servers_counts(
    gateway: RunningGateway,
) -> None:
    request_id, events = stream_events(gateway, max_tokens=40, sim_fault="disconnect_mid_stream")
    last = orjson.loads(events[-1].removeprefix(b"data: "))
    assert last["error"]["code"] == "upstream_error"
    [record] = gateway.records([request_id])
    assert record.error_class == "upstream_error" and record.streamed
    # vLLM is asked for usage on every chunk: the last one seen is billed, not an estimate.
    assert not record.tokens_estimated
    assert record.prompt_tokens > 0 and record.completion_tokens > 0


def test_malformed_upstream_chunk_stops_the_stream_cleanly(sqlite_gateway: RunningGateway) -> None:
    request_id, events = stream_events(sqlite_gateway, max_tokens=20, sim_fault="malformed_chunk")
    assert all(b"{not json" not in e for e in events)
    assert orjson.loads(events[-1].removeprefix(b"data: "))["error"]["code"] == "upstream_error"
    [record] = sqlite_gateway.records([request_id])
    assert record.error_class == "upstream_error" and not record.tokens_estimated


def test_upstream_500_is_502_after_retries_and_recorded_once(
    sqlite_gateway: RunningGateway,
) -> None:
    client = sqlite_gateway.sdk()
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(
            model=CHAT_MODEL, messages=MESSAGES, extra_body={"sim_fault": "http_500"}
        )
    assert caught.value.status_code == 502
    request_id = caught.value.response.headers["x-request-id"]
    [record] = sqlite_gateway.records([request_id])
    assert record.status_code == 502 and record.error_class == "upstream_error"
    assert record.attempts == 1  # one replica: nothing else to try


def test_unreachable_replica_is_skipped(
    simulator: BackgroundServer, start_gateway: GatewayFactory, sqlite_url: str
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    gw = start_gateway(make_catalog(dead, simulator.url), sqlite_url)
    client = gw.sdk()
    ids = []
    for i in range(16):  # distinct conversations: affinity spreads them over both replicas
        messages: list[ChatCompletionMessageParam] = [
            {"role": "user", "content": f"Question {i} : quels examens ?"}
        ]
        raw = client.chat.completions.with_raw_response.create(
            model=CHAT_MODEL, messages=messages, max_tokens=3
        )
        ids.append(raw.headers["x-request-id"])
    records = gw.records(ids)
    assert len(records) == 16 and all(r.status_code == 200 for r in records)
    assert all(r.replica == f"{simulator.url}/v1" for r in records)
    # The dead replica was tried (then skipped) at least once; after a few failures it is
    # ejected and no longer tried at all.
    assert {r.attempts for r in records} <= {1, 2} and 2 in {r.attempts for r in records}


def test_only_dead_replicas_give_502(start_gateway: GatewayFactory, sqlite_url: str) -> None:
    gw = start_gateway(make_catalog(f"http://127.0.0.1:{free_port()}"), sqlite_url)
    client = gw.sdk()
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model=CHAT_MODEL, messages=MESSAGES, stream=True)
    assert caught.value.status_code == 502
    [record] = gw.records([caught.value.response.headers["x-request-id"]])
    assert record.error_class == "upstream_error" and record.prompt_tokens == 0


def test_client_disconnect_mid_stream_cancels_upstream_and_is_recorded(
    start_gateway: GatewayFactory, sqlite_url: str
) -> None:
    slow = simulator_config(inter_token_ms=20)
    with BackgroundServer(create_simulator_app(slow)) as upstream:
        gw = start_gateway(make_catalog(upstream.url), sqlite_url)
        body = {"model": CHAT_MODEL, "messages": MESSAGES, "stream": True, "max_tokens": 500}
        with httpx.stream(
            "POST",
            f"{gw.base_url}/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {gw.key}"},
            timeout=20,
        ) as response:
            request_id = response.headers["x-request-id"]
            for _ in response.iter_bytes():
                break  # first bytes arrived; now hang up
        [record] = gw.records([request_id])
        assert record.client_disconnected and record.status_code == 499
        # The server's own running count (usage on every chunk), not an estimate.
        assert not record.tokens_estimated and record.prompt_tokens > 0
        assert record.completion_tokens < 500
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            stats = httpx.get(f"{upstream.url}/sim/stats").json()
            if stats.get("aborted", 0) >= 1:
                break
            time.sleep(0.05)
        assert stats.get("aborted", 0) >= 1, stats


@pytest.mark.slow
def test_concurrent_load_gives_one_record_per_request(gateway: RunningGateway) -> None:
    async def run() -> list[str]:
        client = openai.AsyncOpenAI(base_url=gateway.base_url, api_key=gateway.key, max_retries=0)

        async def one(i: int) -> str:
            if i % 2:
                stream = await client.chat.completions.with_raw_response.create(
                    model=CHAT_MODEL, messages=MESSAGES, max_tokens=4, stream=True
                )
                async for _ in stream.parse():
                    pass
                return stream.headers["x-request-id"]
            raw = await client.chat.completions.with_raw_response.create(
                model=CHAT_MODEL, messages=MESSAGES, max_tokens=4
            )
            return raw.headers["x-request-id"]

        try:
            return await asyncio.gather(*(one(i) for i in range(60)))
        finally:
            await client.close()

    before = gateway.count()
    ids = asyncio.run(run())
    records = gateway.records(ids)
    assert len(ids) == len(set(ids)) == 60
    assert len(records) == 60
    assert all(r.completion_tokens == 4 and not r.tokens_estimated for r in records)
    assert gateway.count() == before + 60


def _failing(*_: object, **__: object) -> NoReturn:
    raise RuntimeError("injected fault")


@pytest.mark.parametrize(
    ("step", "upstream_reached"), [("_admit", False), ("_answer", True)], ids=["before", "after"]
)
def test_internal_error_is_recorded_as_the_500_the_client_got(
    gateway: RunningGateway, monkeypatch: pytest.MonkeyPatch, step: str, upstream_reached: bool
) -> None:
    # Any bug will do: a step of the pipeline that raises, before or after the model server
    # answered. Such requests once answered 500 and were recorded as 200.
    monkeypatch.setattr(Pipeline, step, _failing)
    with pytest.raises(openai.InternalServerError) as caught:
        gateway.sdk().chat.completions.create(model=CHAT_MODEL, messages=MESSAGES, max_tokens=3)
    response = caught.value.response
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    [record] = gateway.records([response.headers["x-request-id"]])
    assert record.status_code == 500 and record.error_class == "internal_error"
    assert (record.attempts == 1) is upstream_reached
    # The model server computed the answer: the request is not free, and marked as estimated.
    assert (record.prompt_tokens > 0) is upstream_reached
    assert record.tokens_estimated is upstream_reached


def _single_record(gw: RunningGateway, *, timeout_s: float = 10.0) -> LedgerRecord:
    async def newest() -> list[LedgerRecord]:
        engine = make_engine(gw.database_url)
        try:
            return await ledger.recent_records(engine, limit=2)
        finally:
            await engine.dispose()

    deadline = time.monotonic() + timeout_s
    while not (records := asyncio.run(newest())) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(records) == 1, records
    return records[0]


def test_abandoned_plain_request_records_its_estimated_prompt_tokens(
    gateway: RunningGateway, simulator: BackgroundServer
) -> None:
    # The client gives up while the model server computes: the prompt was processed, so the
    # request is never free (it was once recorded with zero tokens).
    body = {
        "model": CHAT_MODEL,
        "messages": MESSAGES,
        "max_tokens": 5,
        "sim_fault": "slow",
        "sim_delay_ms": 3000,
    }
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{gateway.base_url}/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {gateway.key}"},
            timeout=0.5,
        )
    record = _single_record(gateway)
    assert record.client_disconnected and record.status_code == 499
    assert record.attempts == 1 and not record.streamed
    assert record.tokens_estimated and record.prompt_tokens > 0
    # Where it went is known too: it is priced as a request served there.
    assert record.deployment == "sim" and record.replica == f"{simulator.url}/v1"


def test_hostile_model_names_never_cost_anyone_their_record(gateway: RunningGateway) -> None:
    # On PostgreSQL, one of these once made its whole insert batch fail: everyone's records of
    # that 0.2 s window stayed in the journal, and replay stopped there for good.
    def ask(model: str) -> str:
        response = httpx.post(
            f"{gateway.base_url}/chat/completions",
            json={"model": model, "messages": MESSAGES, "max_tokens": 2},
            headers={"Authorization": f"Bearer {gateway.key}"},
            timeout=10,
        )
        return response.headers["x-request-id"]

    hostile = [ask("m" * 300), ask("llama\x00-3-8b"), ask("\x1b[2J\u2028")]
    good = [ask(CHAT_MODEL) for _ in range(3)]
    records = {r.request_id: r for r in gateway.records(hostile + good)}
    assert set(records) == set(hostile + good)
    assert all(records[i].status_code == 404 for i in hostile)
    assert all(records[i].status_code == 200 and records[i].completion_tokens for i in good)
    long_model = records[hostile[0]].model
    assert long_model is not None and len(long_model) == 200
    assert records[hostile[1]].model == "llama\ufffd-3-8b"


def test_request_cut_by_shutdown_is_recorded_as_what_the_client_got(
    sqlite_url: str, tmp_path: Path
) -> None:
    # The server stops while the model server still computes: the request is cancelled once
    # the grace period is over, and the client gets uvicorn's 500 (recorded as 200 before).
    settings = Settings(
        database_url=sqlite_url,
        spool_dir=tmp_path / "spool",
        admin_token="admin-test-token",
        ledger_flush_interval_s=0.05,
    )
    key, _ = asyncio.run(seed_key(sqlite_url))
    received: list[int] = []
    with BackgroundServer(create_simulator_app(simulator_config())) as upstream:
        app = create_app(settings, make_catalog(upstream.url), migrate=False)
        server = BackgroundServer(app, graceful_shutdown_s=1).start()

        def ask() -> None:
            body = {"model": CHAT_MODEL, "messages": MESSAGES, "max_tokens": 2}
            response = httpx.post(
                f"{server.url}/v1/chat/completions",
                json={**body, "sim_fault": "slow", "sim_delay_ms": 5000},
                headers={"Authorization": f"Bearer {key}"},
                timeout=15,
            )
            received.append(response.status_code)

        client = threading.Thread(target=ask)
        client.start()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # until the model server holds the request
            stats = httpx.get(f"{upstream.url}/sim/stats").json()
            if stats["requests"].get("/v1/chat/completions"):
                break
            time.sleep(0.05)
        server.stop()
        client.join(15)
    record = _single_record(RunningGateway(server.url, key, "", sqlite_url, server))
    assert received == [500]
    assert record.status_code == 500 and record.error_class == "gateway_shutdown"
    assert record.tokens_estimated and record.prompt_tokens > 0
