"""Hostile input on the request path: huge, malformed and odd-Unicode bodies."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from gateway.backends.fake import Echo
from tests.gateway.pipeline.harness import InProcessGateway, in_process_gateway, make_catalog

pytestmark = pytest.mark.anyio


async def test_a_body_over_the_limit_is_413_and_never_forwarded(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with in_process_gateway(
        make_catalog(), sqlite_url, tmp_path / "spool", max_body_bytes=4096
    ) as gw:
        response = await gw.chat("x" * 10_000)
        assert response.status_code == 413
        assert response.json()["error"]["type"] == "invalid_request_error"
        assert gw.fakes["onprem"].sent == []
        [record] = await gw.records(response.headers["x-request-id"])
        assert record.status_code == 413 and record.attempts == 0


async def test_odd_unicode_reaches_the_upstream_and_comes_back_intact(
    gw: InProcessGateway,
) -> None:
    text = "é\u0301 \u202egauche\u202c \U0001fa7a \ufeff\u200d nul:\x00 fin"
    gw.fakes["onprem"].then(Echo())
    response = await gw.chat(text, max_tokens=50)
    assert response.status_code == 200, response.text
    [sent] = gw.fakes["onprem"].sent
    assert sent.body["messages"][0]["content"] == text
    assert response.json()["choices"][0]["message"]["content"] == text


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b'{"model": "llama-3-8b"}',
        b'{"model": "llama-3-8b", "messages": "hello"}',
        b'{"model": 7, "messages": []}',
        b'{"model": "llama-3-8b", "messages": [], "max_tokens": -1}',
        b"\xff\xfe not json",
    ],
    ids=["empty", "array", "no-messages", "messages-string", "model-number", "neg-max", "binary"],
)
async def test_a_malformed_body_is_400_in_openai_shape(gw: InProcessGateway, body: bytes) -> None:
    headers = {"Authorization": f"Bearer {gw.key}", "Content-Type": "application/json"}
    response = await gw.client.post("/v1/chat/completions", content=body, headers=headers)
    assert response.status_code == 400, response.text
    error = orjson.loads(response.content)["error"]
    assert error["type"] == "invalid_request_error" and error["message"]
    assert gw.fakes["onprem"].sent == []
