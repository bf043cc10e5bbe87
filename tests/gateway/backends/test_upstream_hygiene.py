"""What leaves the gateway for a model server, and how its answers are read back.

Server-side vLLM parameters are dropped unless the deployment allows them, media URLs the GPU
node would fetch are refused unless inline or allowed, streams are read whatever their framing,
and a stream the client leaves is billed with the server's own counts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from gateway.catalog import Catalog, parse_catalog
from gateway.http.local_server import BackgroundServer
from tests.conftest import CHAT_MODEL, HEALTH_CLEARED, GatewayFactory, RunningGateway
from tests.gateway.echo_upstream import echo_app
from tests.gateway.framed_upstream import USAGE, WORDS, framed_app

METADATA_IMAGE = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
PIXEL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"


def one_deployment(url: str, **deployment: Any) -> Catalog:
    chat = {
        "name": CHAT_MODEL,
        "deployments": [
            {"name": "node", "replicas": [f"{url}/v1"], "hosting": HEALTH_CLEARED, **deployment}
        ],
    }
    return parse_catalog({"models": [chat]})


@pytest.fixture
def echo() -> Iterator[tuple[BackgroundServer, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    with BackgroundServer(echo_app(received)) as server:
        yield server, received


def image_message(url: str) -> list[dict[str, Any]]:
    parts = [{"type": "text", "text": "Décris."}, {"type": "image_url", "image_url": {"url": url}}]
    return [{"role": "user", "content": parts}]


def test_server_side_parameters_are_dropped_unless_the_deployment_allows_them(
    echo: Any, start_gateway: GatewayFactory, sqlite_url: str
) -> None:
    server, received = echo
    gw = start_gateway(one_deployment(server.url, allowed_params=["priority"]), sqlite_url)
    extra = {
        "chat_template": "{{ raise_exception('x') }}",
        "chat_template_kwargs": {"enable_thinking": True},
        "logits_processors": ["os.system"],
        "kv_transfer_params": {"remote_host": "10.0.0.1"},
        "priority": -10,
        "top_k": 5,
        "guided_choice": ["oui", "non"],
    }
    raw = gw.sdk().chat.completions.with_raw_response.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "Bonjour"}],
        max_tokens=5,
        extra_body=extra,
    )
    assert raw.parse().choices[0].message.content == "Bonjour"
    [sent] = received
    dropped = {"chat_template", "chat_template_kwargs", "logits_processors", "kv_transfer_params"}
    assert not dropped & sent.keys()
    assert (
        sent["priority"] == -10 and sent["top_k"] == 5 and sent["guided_choice"] == ["oui", "non"]
    )
    assert raw.headers["x-hygie-dropped-params"] == ",".join(sorted(dropped))


def test_media_urls_are_inline_or_on_an_allowed_host(
    echo: Any, start_gateway: GatewayFactory, sqlite_url: str
) -> None:
    server, received = echo
    catalog = one_deployment(server.url, media_hosts=["pacs.chu.example"])
    client = start_gateway(catalog, sqlite_url).sdk()
    for url in (METADATA_IMAGE, "file:///etc/passwd", "http://pacs.chu.example@169.254.169.254/"):
        with pytest.raises(openai.BadRequestError) as refused:
            client.chat.completions.create(model=CHAT_MODEL, messages=image_message(url))  # type: ignore[arg-type]
        error = refused.value.body
        assert isinstance(error, dict)
        assert error["code"] == "invalid_request"
        assert error["param"] == "messages[0].content[1].image_url"
    assert received == []  # nothing reached the model server
    for url in (PIXEL, "https://PACS.chu.example/study/1.png"):
        client.chat.completions.create(model=CHAT_MODEL, messages=image_message(url))  # type: ignore[arg-type]
    assert [r["messages"][0]["content"][1]["image_url"]["url"] for r in received] == [
        PIXEL,
        "https://PACS.chu.example/study/1.png",
    ]


@pytest.mark.parametrize("line_end", ["\r\n", "\r", "\n"])
def test_a_stream_framed_with_any_line_ending_reaches_the_client_and_is_metered(
    line_end: str, start_gateway: GatewayFactory, sqlite_url: str
) -> None:
    with BackgroundServer(framed_app(line_end)) as server:
        gw = start_gateway(one_deployment(server.url), sqlite_url)
        with gw.sdk().chat.completions.with_streaming_response.create(
            model=CHAT_MODEL, messages=[{"role": "user", "content": "Bonjour"}], stream=True
        ) as response:
            request_id = response.headers["x-request-id"]
            chunks = list(response.parse())
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "".join(WORDS)
    assert all(c.usage is None for c in chunks)  # the client did not ask for usage
    [record] = gw.records([request_id])
    assert record.status_code == 200 and not record.tokens_estimated
    assert record.prompt_tokens == USAGE["prompt_tokens"]


def test_a_stream_the_client_leaves_is_billed_with_the_servers_counts(
    gateway: RunningGateway,
) -> None:
    messages = [{"role": "user", "content": "Rédige un long compte rendu de consultation. " * 8}]
    client = gateway.sdk()
    plain = client.chat.completions.create(model=CHAT_MODEL, messages=messages, max_tokens=1)  # type: ignore[arg-type]
    assert plain.usage is not None
    body = {"model": CHAT_MODEL, "messages": messages, "max_tokens": 2000, "stream": True}
    headers = {"authorization": f"Bearer {gateway.key}"}
    seen: list[str] = []
    with (
        httpx.Client(timeout=10) as http,
        http.stream(
            "POST", f"{gateway.base_url}/chat/completions", json=body, headers=headers
        ) as r,
    ):
        request_id = r.headers["x-request-id"]
        for line in r.iter_lines():
            seen.append(line)
            if len(seen) >= 12:
                break  # the client leaves mid-answer
    assert not any('"usage"' in line for line in seen)  # per-chunk usage is the gateway's
    deadline = time.monotonic() + 10
    records = gateway.records([request_id])
    while not (records and records[0].client_disconnected) and time.monotonic() < deadline:
        time.sleep(0.05)
        records = gateway.records([request_id])
    [record] = records
    assert record.client_disconnected and not record.tokens_estimated
    assert record.prompt_tokens == plain.usage.prompt_tokens
    assert 0 < record.completion_tokens < 2000


def test_an_answer_over_the_size_limit_is_a_502_and_recorded(
    start_gateway: GatewayFactory, sqlite_url: str
) -> None:
    with BackgroundServer(framed_app(padding=8192)) as server:
        gw = start_gateway(one_deployment(server.url), sqlite_url, max_upstream_answer_bytes=4096)
        with pytest.raises(openai.APIStatusError) as caught:
            gw.sdk().chat.completions.create(
                model=CHAT_MODEL, messages=[{"role": "user", "content": "Bonjour"}]
            )
    assert caught.value.status_code == 502
    error = caught.value.body
    assert isinstance(error, dict) and error["code"] == "upstream_error"
    [record] = gw.records([caught.value.response.headers["x-request-id"]])
    assert record.status_code == 502 and record.error_class == "upstream_error"


def test_an_over_long_event_ends_the_stream_with_an_error(
    start_gateway: GatewayFactory, sqlite_url: str
) -> None:
    with BackgroundServer(framed_app(padding=2 * 1024 * 1024)) as server:
        gw = start_gateway(one_deployment(server.url), sqlite_url)
        body = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "x"}], "stream": True}
        headers = {"authorization": f"Bearer {gw.key}"}
        with httpx.stream(
            "POST", f"{gw.base_url}/chat/completions", json=body, headers=headers, timeout=10
        ) as response:
            request_id = response.headers["x-request-id"]
            events = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert len(events) == 2  # the first chunk, then the error; the long one never reached us
    assert '"upstream_error"' in events[-1] and "size limit" in events[-1]
    [record] = gw.records([request_id])
    assert record.error_class == "upstream_error"
