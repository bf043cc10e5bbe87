"""Retries and failover across replicas, seen from the client and the ledger."""

from __future__ import annotations

import pytest

from gateway.backends.fake import (
    Reply,
    Stream,
    TooLarge,
    Unreachable,
    chat_answer,
    chat_stream,
    error_answer,
)
from tests.gateway.pipeline.harness import InProcessGateway

pytestmark = pytest.mark.anyio


@pytest.fixture
def gw(fresh_gw: InProcessGateway) -> InProcessGateway:
    """Replica health and the retry budget outlive a test: each one gets a gateway of its own."""
    return fresh_gw


def targets(gw: InProcessGateway) -> list[str]:
    return [sent.target for sent in gw.fakes["onprem"].sent]


@pytest.mark.parametrize(
    "failure",
    [Unreachable(), Unreachable(timed_out=True), error_answer(503, "overloaded")],
    ids=["refused", "timed-out", "503"],
)
async def test_a_failing_replica_is_left_for_the_other(
    gw: InProcessGateway, failure: Unreachable | Reply
) -> None:
    gw.fakes["onprem"].then(failure, Reply(chat_answer("second")))
    response = await gw.chat()
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "second"
    first, second = targets(gw)
    assert first != second  # never the same replica twice
    [record] = await gw.records(response.headers["x-request-id"])
    assert record.attempts == 2 and record.status_code == 200
    assert record.replica == second


@pytest.mark.parametrize(
    ("failure", "status", "code"),
    [
        (Unreachable(), 502, "upstream_error"),
        (Unreachable(timed_out=True), 504, "upstream_timeout"),
        (error_answer(500, "boom"), 502, "upstream_error"),
    ],
)
async def test_when_every_replica_fails_the_last_error_is_returned_and_recorded(
    gw: InProcessGateway, failure: Unreachable | Reply, status: int, code: str
) -> None:
    gw.fakes["onprem"].then(failure, failure)
    response = await gw.chat()
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert len(set(targets(gw))) == 2
    [record] = await gw.records(response.headers["x-request-id"])
    assert record.attempts == 2 and record.status_code == status
    assert record.cost_micro_eur == 0  # no server processed the prompt


async def test_a_client_error_is_not_retried(gw: InProcessGateway) -> None:
    gw.fakes["onprem"].then(error_answer(400, "max_tokens is too large"))
    response = await gw.chat()
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "max_tokens is too large"
    assert len(targets(gw)) == 1
    [record] = await gw.records(response.headers["x-request-id"])
    assert record.error_class == "upstream_rejected" and record.prompt_tokens == 0
    assert not record.tokens_estimated


async def test_an_answer_over_the_size_limit_is_502_and_not_retried(gw: InProcessGateway) -> None:
    gw.fakes["onprem"].then(TooLarge(1024))
    response = await gw.chat()
    assert response.status_code == 502 and "larger than the gateway accepts" in response.text
    assert len(targets(gw)) == 1


async def test_a_stream_fails_over_until_its_first_byte(gw: InProcessGateway) -> None:
    gw.fakes["onprem"].then(error_answer(503, "busy"), Stream(chat_stream(["a", "b"])))
    response = await gw.chat(stream=True)
    assert response.status_code == 200
    assert response.text.endswith("data: [DONE]\n\n") and '"content":"a"' in response.text
    assert len(set(targets(gw))) == 2
    [opened] = gw.fakes["onprem"].streams
    assert opened.released and not opened.aborted
    [record] = await gw.records(response.headers["x-request-id"])
    assert record.attempts == 2 and record.streamed and record.completion_tokens == 2


async def test_a_stream_refused_for_the_request_is_an_error_status(gw: InProcessGateway) -> None:
    gw.fakes["onprem"].then(error_answer(400, "bad stop sequence"))
    response = await gw.chat(stream=True)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "bad stop sequence"
    assert len(targets(gw)) == 1


async def test_the_fallback_model_answers_when_the_first_group_is_exhausted(
    sqlite_url: str, tmp_path: object
) -> None:
    from pathlib import Path

    from tests.gateway.pipeline.harness import in_process_gateway, make_catalog

    catalog = make_catalog(onprem_replicas=1, fallbacks=["cloud-gpt"])
    async with in_process_gateway(catalog, sqlite_url, Path(str(tmp_path)) / "spool") as gw:
        gw.fakes["onprem"].then(Unreachable())
        response = await gw.chat("Bonjour")
        assert response.status_code == 200, response.text
        assert response.headers["x-hygie-model"] == "cloud-gpt"
        [sent] = gw.fakes["cloud-eu"].sent
        assert sent.model == "cloud-gpt" and sent.body["model"] == "cloud-gpt"
        [record] = await gw.records(response.headers["x-request-id"])
        assert record.fallback_model == "cloud-gpt" and record.attempts == 2
