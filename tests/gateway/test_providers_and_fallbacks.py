"""External providers through litellm, and per-model fallbacks, through the whole gateway."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from openai.types.chat import ChatCompletionMessageParam

from gateway.catalog import parse_catalog
from gateway.http.local_server import BackgroundServer, free_port
from tests.conftest import CHAT_MODEL, HEALTH_CLEARED, GatewayFactory
from tests.providers.fake_providers import GATEWAY_SECRET, Recorder, create_fake_providers

MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "Quelles sont les contre-indications de l'aspirine ?"}
]
EU_CLOUD = {"class": "eu_cloud", "cleared_for": ["public", "internal"], "retention": "zero"}


@pytest.fixture
def fake_providers() -> Iterator[tuple[BackgroundServer, Recorder]]:
    recorder = Recorder()
    with BackgroundServer(create_fake_providers(recorder)) as server:
        yield server, recorder


def test_anthropic_through_the_gateway_is_translated_and_metered(
    fake_providers: tuple[BackgroundServer, Recorder],
    start_gateway: GatewayFactory,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, recorder = fake_providers
    monkeypatch.setenv("ANTHROPIC_TEST_KEY", GATEWAY_SECRET)
    catalog = parse_catalog(
        {
            "models": [
                {
                    "name": "claude",
                    "deployments": [
                        {
                            "name": "anthropic-eu",
                            "kind": "litellm",
                            "litellm_model": "anthropic/claude-3-5-haiku-20241022",
                            "api_base": f"{server.url}/anthropic/gw/ok",
                            "api_key_env": "ANTHROPIC_TEST_KEY",
                            "hosting": EU_CLOUD,
                        }
                    ],
                }
            ],
            "prices": {"claude": {"input": "0.8", "output": "4", "currency": "USD"}},
            "cost": {"fx_to_eur": {"USD": "0.92"}},
        }
    )
    gw = start_gateway(catalog, sqlite_url)
    client = gw.sdk()
    raw = client.chat.completions.with_raw_response.create(
        model="claude", messages=MESSAGES, max_tokens=20
    )
    answer = raw.parse()
    assert answer.choices[0].message.content and answer.model == "claude"
    assert answer.usage is not None and answer.usage.prompt_tokens > 0
    stream = client.chat.completions.create(
        model="claude", messages=MESSAGES, max_tokens=20, stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text
    [sent, *_] = recorder.requests["gw"]
    assert sent.headers["x-api-key"] == GATEWAY_SECRET  # the gateway's credential...
    assert gw.key not in str(sent.headers)  # ...never the client's
    assert sent.body["messages"][0]["role"] == "user" and sent.body["max_tokens"] == 20
    [record] = gw.records([raw.headers["x-request-id"]])
    assert (
        record.deployment == "anthropic-eu" and record.prompt_tokens == answer.usage.prompt_tokens
    )
    assert record.cost_micro_eur and record.cost_micro_eur > 0
    assert record.fx_rate == "0.92"  # the rate the dollar price was converted at


def test_fallback_model_answers_when_the_requested_one_cannot(
    simulator: BackgroundServer, start_gateway: GatewayFactory, sqlite_url: str
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    catalog = parse_catalog(
        {
            "models": [
                {
                    "name": "big-model",
                    "fallbacks": ["forbidden-fallback", CHAT_MODEL],
                    "deployments": [{"name": "big", "replicas": [dead], "hosting": HEALTH_CLEARED}],
                },
                {
                    # Cleared for public data only: the note below may not go there.
                    "name": "forbidden-fallback",
                    "deployments": [
                        {
                            "name": "public-only",
                            "replicas": [f"{simulator.url}/v1"],
                            "hosting": {"class": "non_eu", "cleared_for": ["public"]},
                        }
                    ],
                },
                {
                    "name": CHAT_MODEL,
                    "deployments": [
                        {
                            "name": "sim",
                            "replicas": [f"{simulator.url}/v1"],
                            "hosting": HEALTH_CLEARED,
                        }
                    ],
                },
            ]
        }
    )
    gw = start_gateway(catalog, sqlite_url)
    note: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": "Synthèse pour M. Paul MARTIN, né le 02/04/1961."}
    ]
    raw = gw.sdk().chat.completions.with_raw_response.create(
        model="big-model", messages=note, max_tokens=4
    )
    assert raw.headers["x-hygie-model"] == CHAT_MODEL
    [record] = gw.records([raw.headers["x-request-id"]])
    assert record.fallback_model == CHAT_MODEL and record.model == CHAT_MODEL
    assert record.deployment == "sim" and record.attempts >= 2
    assert record.data_class == "health"


def test_metrics_endpoint_reports_requests_and_upstream_health(
    simulator: BackgroundServer, start_gateway: GatewayFactory, sqlite_url: str
) -> None:
    from tests.conftest import make_catalog

    gw = start_gateway(make_catalog(simulator.url), sqlite_url)
    gw.sdk().chat.completions.create(model=CHAT_MODEL, messages=MESSAGES, max_tokens=2)
    text = httpx.get(f"{gw.url}/metrics").text
    assert f'hygie_requests_total{{endpoint="chat",model="{CHAT_MODEL}",status="200"}} 1.0' in text
    assert "hygie_upstream_healthy{" in text and "hygie_ledger_backlog" in text
    assert "dr.test" not in text and gw.key_id not in text  # no per-user labels
