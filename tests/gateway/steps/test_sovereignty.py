"""Allow, deny, reroute and pseudonymise through the openai SDK, streaming too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from gateway.catalog import parse_catalog
from gateway.http.local_server import BackgroundServer
from policies.policy_file import DEFAULT_POLICY_PATH
from tests.conftest import CHAT_MODEL, GatewayFactory, RunningGateway
from tests.gateway.echo_upstream import echo_app

PATIENT = "Mme Jeanne DUPONT, née le 12/03/1956, NIR 2 56 03 75 112 004 60"
NOTE = f"Résume le dossier de {PATIENT} : douleur thoracique, troponine élevée."
EXTERNAL = {"class": "eu_cloud", "cleared_for": ["public", "internal"], "retention": "zero"}
ON_PREM = {"class": "on_premise", "cleared_for": ["public", "internal", "personal", "health"]}


@pytest.fixture
def external() -> Iterator[tuple[BackgroundServer, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    with BackgroundServer(echo_app(received)) as server:
        yield server, received


def catalog(simulator_url: str, external_url: str, *, alternative: bool) -> Any:
    external_model: dict[str, Any] = {
        "name": "cloud-gpt",
        "deployments": [
            {"name": "cloud-eu", "replicas": [f"{external_url}/v1"], "hosting": EXTERNAL}
        ],
    }
    if alternative:
        external_model["sovereign_alternative"] = CHAT_MODEL
    return parse_catalog(
        {
            "models": [
                {
                    "name": CHAT_MODEL,
                    "deployments": [
                        {"name": "onprem", "replicas": [f"{simulator_url}/v1"], "hosting": ON_PREM}
                    ],
                },
                external_model,
            ]
        }
    )


def client(gw: RunningGateway) -> openai.OpenAI:
    return gw.sdk()


def ask(gw: RunningGateway, model: str, content: str, **extra: Any) -> Any:
    return client(gw).chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": content}], max_tokens=5, **extra
    )


def test_health_data_on_premise_is_allowed_and_explained_in_the_ledger(
    simulator: BackgroundServer, external: Any, start_gateway: GatewayFactory, sqlite_url: str
) -> None:
    gw = start_gateway(catalog(simulator.url, external[0].url, alternative=False), sqlite_url)
    raw = ask(gw, CHAT_MODEL, NOTE)
    assert raw.headers["x-hygie-data-class"] == "health"
    assert raw.headers["x-hygie-policy-decision"] == "allow"
    assert raw.headers["x-hygie-hosting-class"] == "on_premise"
    [record] = gw.records([raw.headers["x-request-id"]])
    assert record.data_class == "health" and record.policy_decision == "allow"
    assert record.entity_counts and record.entity_counts.get("NIR") == 1
    assert record.policy_version == raw.headers["x-hygie-policy-version"]


def test_health_data_to_an_external_model_without_alternative_is_denied(
    simulator: BackgroundServer, external: Any, start_gateway: GatewayFactory, sqlite_url: str
) -> None:
    server, received = external
    gw = start_gateway(catalog(simulator.url, server.url, alternative=False), sqlite_url)
    with pytest.raises(openai.PermissionDeniedError) as caught:
        ask(gw, "cloud-gpt", NOTE)
    error = caught.value.body
    assert isinstance(error, dict) and error["code"] == "data_sovereignty_violation"
    assert "health-reroute-to-sovereign-model" in error["message"]
    assert "DUPONT" not in error["message"] and "1956" not in error["message"]
    assert received == []  # nothing left the gateway
    [record] = gw.records([caught.value.response.headers["x-request-id"]])
    assert record.status_code == 403 and record.error_class == "data_sovereignty_violation"
    assert record.policy_decision == "deny" and record.data_class == "health"
    # Public data may still use the external model.
    assert (
        ask(gw, "cloud-gpt", "Quelles sont les contre-indications de l'aspirine ?").parse().choices
    )
    assert len(received) == 1


@pytest.mark.parametrize("stream", [False, True])
def test_health_data_is_rerouted_to_the_sovereign_alternative(
    simulator: BackgroundServer,
    external: Any,
    start_gateway: GatewayFactory,
    sqlite_url: str,
    stream: bool,
) -> None:
    server, received = external
    gw = start_gateway(catalog(simulator.url, server.url, alternative=True), sqlite_url)
    if stream:
        with client(gw).chat.completions.with_streaming_response.create(
            model="cloud-gpt",
            messages=[{"role": "user", "content": NOTE}],
            max_tokens=5,
            stream=True,
        ) as response:
            headers = response.headers
            chunks = list(response.parse())
        assert chunks
    else:
        raw = ask(gw, "cloud-gpt", NOTE)
        headers = raw.headers
    assert (
        headers["x-hygie-model"] == CHAT_MODEL and headers["x-hygie-policy-decision"] == "reroute"
    )
    assert received == []
    [record] = gw.records([headers["x-request-id"]])
    assert record.model == CHAT_MODEL and record.deployment == "onprem"
    assert record.policy_decision == "reroute"


def pseudonymising_policy(tmp_path: Path) -> Path:
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
    marker = (
        "    enabled: false\n    match:\n      data_class: health\n      deployment:\n"
        "        hosting_classes: [eu_cloud, non_eu]"
    )
    assert marker in text
    path = tmp_path / "policy.yaml"
    path.write_text(
        text.replace(marker, marker.replace("enabled: false", "enabled: true")), encoding="utf-8"
    )
    return path


@pytest.mark.parametrize("stream", [False, True])
def test_pseudonymised_request_leaves_without_identifiers_and_comes_back_restored(
    simulator: BackgroundServer,
    external: Any,
    start_gateway: GatewayFactory,
    sqlite_url: str,
    tmp_path: Path,
    stream: bool,
) -> None:
    server, received = external
    gw = start_gateway(
        catalog(simulator.url, server.url, alternative=False),
        sqlite_url,
        policy=pseudonymising_policy(tmp_path),
    )
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": NOTE}]
    if stream:
        with client(gw).chat.completions.with_streaming_response.create(
            model="cloud-gpt", messages=messages, stream=True
        ) as response:
            headers = response.headers
            answer = "".join(
                c.choices[0].delta.content or "" for c in response.parse() if c.choices
            )
    else:
        raw = client(gw).chat.completions.with_raw_response.create(
            model="cloud-gpt", messages=messages
        )
        headers = raw.headers
        answer = raw.parse().choices[0].message.content or ""
    assert headers["x-hygie-policy-decision"] == "pseudonymise"
    sent = received[-1]["messages"][0]["content"]
    assert "DUPONT" not in sent and "Jeanne" not in sent and "56 03 75" not in sent
    assert "[PERSON_1]" in sent or "[PERSON" in sent
    assert answer == NOTE  # the echo came back with the originals restored
    [record] = gw.records([headers["x-request-id"]])
    assert record.policy_decision == "pseudonymise" and record.deployment == "cloud-eu"


def test_declared_class_header_raises_the_class_and_bad_values_are_400(
    simulator: BackgroundServer, external: Any, start_gateway: GatewayFactory, sqlite_url: str
) -> None:
    server, received = external
    gw = start_gateway(catalog(simulator.url, server.url, alternative=False), sqlite_url)
    with pytest.raises(openai.PermissionDeniedError):
        ask(
            gw,
            "cloud-gpt",
            "Texte sans identifiant.",
            extra_headers={"x-hygie-data-class": "health"},
        )
    with pytest.raises(openai.BadRequestError) as caught:
        ask(gw, "cloud-gpt", "x", extra_headers={"x-hygie-data-class": "secret"})
    assert caught.value.body["param"] == "x-hygie-data-class"  # type: ignore[index]
    assert received == []


def test_policy_explain_is_a_dry_run(
    simulator: BackgroundServer, external: Any, start_gateway: GatewayFactory, sqlite_url: str
) -> None:
    server, received = external
    gw = start_gateway(catalog(simulator.url, server.url, alternative=True), sqlite_url)
    response = httpx.post(
        f"{gw.base_url}/policy/explain",
        headers={"Authorization": f"Bearer {gw.key}"},
        json={"model": "cloud-gpt", "messages": [{"role": "user", "content": NOTE}]},
    )
    assert response.status_code == 200, response.text
    explained = response.json()
    assert explained["decision"] == "reroute" and explained["data_class"] == "health"
    assert explained["reroute_to"] == CHAT_MODEL
    assert explained["entities"]["NIR"] == 1 and "DUPONT" not in response.text
    assert received == [] and gw.count() == 0
