"""Exactly one ledger record per request, whatever its outcome, under concurrency."""

from __future__ import annotations

import asyncio

import pytest

from gateway.backends.fake import Reply, Stream, Unreachable, chat_answer, chat_stream
from tests.gateway.pipeline.harness import InProcessGateway

pytestmark = pytest.mark.anyio


async def test_concurrent_requests_are_each_recorded_once(gw: InProcessGateway) -> None:
    gw.fakes["onprem"].then(
        *(Reply(chat_answer(str(i)), delay_s=0.001 * (i % 3)) for i in range(20))
    )
    responses = await asyncio.gather(*(gw.chat(max_tokens=3) for _ in range(20)))
    ids = [r.headers["x-request-id"] for r in responses]
    assert all(r.status_code == 200 for r in responses) and len(set(ids)) == 20
    records = await gw.records(*ids)
    assert sorted(r.request_id for r in records) == sorted(ids)  # one each, none twice


async def test_every_outcome_is_recorded_with_its_status(gw: InProcessGateway) -> None:
    fake = gw.fakes["onprem"]
    fake.then(Unreachable(), Unreachable())  # 502 after two attempts
    failed = await gw.chat()
    fake.then(Stream(chat_stream(["a"])))
    streamed = await gw.chat(stream=True)
    unknown = await gw.chat(model="no-such-model")
    invalid = await gw.client.post(
        "/v1/chat/completions",
        content=b'{"model": "llama-3-8b", "messages": [',
        headers={"Authorization": f"Bearer {gw.key}", "Content-Type": "application/json"},
    )
    responses = {"failed": failed, "streamed": streamed, "unknown": unknown, "invalid": invalid}
    by_id = {r.headers["x-request-id"]: name for name, r in responses.items()}
    found = await gw.records(*by_id)
    assert len(found) == len(by_id)  # one record each, none twice
    records = {by_id[r.request_id]: r for r in found}
    assert {name: r.status_code for name, r in records.items()} == {
        "failed": 502,
        "streamed": 200,
        "unknown": 404,
        "invalid": 400,
    }
    assert records["failed"].attempts == 2 and records["streamed"].attempts == 1
    assert records["unknown"].attempts == 0 and records["invalid"].attempts == 0


async def test_the_record_names_the_deployment_replica_and_timing(gw: InProcessGateway) -> None:
    gw.fakes["onprem"].then(Reply(chat_answer(), delay_s=0.02))
    response = await gw.chat()
    [record] = await gw.records(response.headers["x-request-id"])
    assert record.deployment == "onprem" and record.replica == gw.fakes["onprem"].sent[0].target
    assert record.latency_ms >= 20 and record.ttft_ms is not None
    assert record.model == "llama-3-8b" and record.department_id is not None
