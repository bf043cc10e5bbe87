"""Opt-in: the gateway in front of a REAL vLLM server; ledger tokens = vLLM's own counters."""

from __future__ import annotations

import os
import re

import httpx
import openai
import pytest

from gateway.catalog import parse_catalog
from tests.conftest import GatewayFactory

pytestmark = pytest.mark.vllm

VLLM_URL = os.environ.get("HYGIE_REAL_VLLM_URL", "")
VLLM_MODEL = os.environ.get("HYGIE_REAL_VLLM_MODEL", "tiny-llama")


def counters() -> tuple[float, float]:
    text = httpx.get(f"{VLLM_URL}/metrics", timeout=10).text

    def total(name: str) -> float:
        pattern = rf"^vllm:{name}_total\{{[^}}]*\}} ([0-9.e+]+)$"
        return sum(float(v) for v in re.findall(pattern, text, re.MULTILINE))

    return total("prompt_tokens"), total("generation_tokens")


@pytest.fixture
def real_gateway(start_gateway: GatewayFactory, sqlite_url: str):  # type: ignore[no-untyped-def]
    if not VLLM_URL:
        pytest.skip("opt-in: set HYGIE_REAL_VLLM_URL (see tests/real_vllm/README.md)")
    catalog = parse_catalog(
        {
            "models": [
                {
                    "name": VLLM_MODEL,
                    "deployments": [{"name": "real", "replicas": [f"{VLLM_URL}/v1"]}],
                }
            ]
        }
    )
    return start_gateway(catalog, sqlite_url)


def test_ledger_tokens_equal_vllm_counter_deltas(real_gateway) -> None:  # type: ignore[no-untyped-def]
    client = real_gateway.sdk()
    messages = [{"role": "user", "content": "Résume le dossier en trois points."}]
    prompt_before, generated_before = counters()
    ids = []
    for max_tokens in (5, 17):
        raw = client.chat.completions.with_raw_response.create(
            model=VLLM_MODEL, messages=messages, max_tokens=max_tokens
        )
        ids.append(raw.headers["x-request-id"])
        with client.chat.completions.with_streaming_response.create(
            model=VLLM_MODEL, messages=messages, max_tokens=max_tokens, stream=True
        ) as stream:
            ids.append(stream.headers["x-request-id"])
            for _ in stream.parse():
                pass
    raw = client.completions.with_raw_response.create(
        model=VLLM_MODEL, prompt="Le patient", max_tokens=9
    )
    ids.append(raw.headers["x-request-id"])
    records = real_gateway.records(ids)
    prompt_after, generated_after = counters()

    assert len(records) == len(ids)
    assert not any(r.tokens_estimated for r in records)
    assert sum(r.prompt_tokens for r in records) == prompt_after - prompt_before
    assert sum(r.completion_tokens for r in records) == generated_after - generated_before


def test_real_vllm_errors_pass_through(real_gateway) -> None:  # type: ignore[no-untyped-def]
    client = real_gateway.sdk()
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model=VLLM_MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=10**6
        )
    assert "max_tokens" in caught.value.message
