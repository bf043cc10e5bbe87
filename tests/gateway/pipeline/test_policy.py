"""Policy decisions in the request path: allow, deny, reroute, pseudonymise and restore."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from gateway.backends.fake import Echo
from policies.policy_file import DEFAULT_POLICY_PATH
from tests.conftest import CHAT_MODEL
from tests.gateway.pipeline.harness import (
    CLOUD_MODEL,
    NOTE,
    InProcessGateway,
    in_process_gateway,
    make_catalog,
)

pytestmark = pytest.mark.anyio

PUBLIC = "Quelles sont les contre-indications de l'aspirine ?"


async def test_public_text_may_use_the_external_model(gw: InProcessGateway) -> None:
    response = await gw.chat(PUBLIC, model=CLOUD_MODEL)
    assert response.status_code == 200, response.text
    assert response.headers["x-hygie-policy-decision"] == "allow"
    assert response.headers["x-hygie-deployment"] == "cloud-eu"
    assert len(gw.fakes["cloud-eu"].sent) == 1 and gw.fakes["onprem"].sent == []


async def test_a_patient_identifier_to_an_uncleared_model_is_refused_and_never_sent(
    gw: InProcessGateway,
) -> None:
    response = await gw.chat(NOTE, model=CLOUD_MODEL)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "data_sovereignty_violation"
    assert "DUPONT" not in response.text and "1956" not in response.text
    assert response.headers["x-hygie-policy-decision"] == "deny"
    assert gw.fakes["cloud-eu"].sent == [] and gw.fakes["onprem"].sent == []
    [record] = await gw.records(response.headers["x-request-id"])
    assert record.policy_decision == "deny" and record.data_class == "health"
    assert record.status_code == 403 and record.attempts == 0
    assert record.entity_counts and record.entity_counts.get("NIR") == 1


@pytest.mark.parametrize("stream", [False, True])
async def test_a_patient_identifier_is_rerouted_to_the_sovereign_alternative(
    sqlite_url: str, tmp_path: Path, stream: bool
) -> None:
    catalog = make_catalog(alternative=True)
    async with in_process_gateway(catalog, sqlite_url, tmp_path / "spool") as gw:
        response = await gw.chat(NOTE, model=CLOUD_MODEL, stream=stream)
        assert response.status_code == 200, response.text
        assert response.headers["x-hygie-policy-decision"] == "reroute"
        assert response.headers["x-hygie-model"] == CHAT_MODEL
        assert gw.fakes["cloud-eu"].sent == []
        [sent] = gw.fakes["onprem"].sent
        assert sent.stream is stream
        [record] = await gw.records(response.headers["x-request-id"])
        assert record.model == CHAT_MODEL and record.deployment == "onprem"
        assert record.policy_decision == "reroute" and record.streamed is stream


def pseudonymising_policy(folder: Path) -> Path:
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
    marker = (
        "    enabled: false\n    match:\n      data_class: health\n      deployment:\n"
        "        hosting_classes: [eu_cloud, non_eu]"
    )
    assert marker in text
    path = folder / "policy.yaml"
    path.write_text(
        text.replace(marker, marker.replace("enabled: false", "enabled: true")), encoding="utf-8"
    )
    return path


@pytest.mark.parametrize("stream", [False, True])
async def test_pseudonymised_identifiers_leave_replaced_and_come_back_restored(
    sqlite_url: str, tmp_path: Path, stream: bool
) -> None:
    policy = pseudonymising_policy(tmp_path)
    async with in_process_gateway(
        make_catalog(), sqlite_url, tmp_path / "spool", policy=policy
    ) as gw:
        gw.fakes["cloud-eu"].then(Echo())
        response = await gw.chat(NOTE, model=CLOUD_MODEL, stream=stream, max_tokens=200)
        assert response.status_code == 200, response.text
        assert response.headers["x-hygie-policy-decision"] == "pseudonymise"
        [sent] = gw.fakes["cloud-eu"].sent
        left = sent.body["messages"][0]["content"]
        assert "DUPONT" not in left and "Jeanne" not in left and "56 03 75" not in left
        assert "[PERSON" in left
        if stream:
            events = [
                orjson.loads(line.removeprefix("data: "))
                for line in response.text.splitlines()
                if line.startswith("data: {")
            ]
            answer = "".join(
                e["choices"][0]["delta"].get("content") or "" for e in events if e["choices"]
            )
        else:
            answer = response.json()["choices"][0]["message"]["content"]
        assert answer == NOTE
        [record] = await gw.records(response.headers["x-request-id"])
        assert record.policy_decision == "pseudonymise" and record.deployment == "cloud-eu"


async def test_a_declared_class_raises_the_class_and_a_bad_one_is_400(
    gw: InProcessGateway,
) -> None:
    headers = {"Authorization": f"Bearer {gw.key}", "x-hygie-data-class": "health"}
    body = {"model": CLOUD_MODEL, "messages": [{"role": "user", "content": PUBLIC}]}
    refused = await gw.client.post("/v1/chat/completions", json=body, headers=headers)
    assert refused.status_code == 403
    headers["x-hygie-data-class"] = "secret"
    bad = await gw.client.post("/v1/chat/completions", json=body, headers=headers)
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request_error"
    assert gw.fakes["cloud-eu"].sent == []
