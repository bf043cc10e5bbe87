"""What a client body turns into for litellm: allow-listed fields, the gateway's credential."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gateway.backends.litellm.request import UnsupportedEndpoint, build_provider_request
from gateway.catalog import Deployment


def make_deployment(**overrides: object) -> Deployment:
    fields: dict[str, object] = {
        "name": "claude-eu",
        "kind": "litellm",
        "litellm_model": "anthropic/claude-3-5-haiku-20241022",
        "api_base": "https://api.anthropic.com/",
    }
    fields.update(overrides)
    return Deployment.model_validate(fields)


def test_only_openai_parameters_pass_and_the_gateway_sets_model_and_credentials() -> None:
    body = {
        "model": "assistant",
        "messages": [{"role": "user", "content": "Bonjour"}],
        "temperature": 0.1,
        "tools": [],
        "api_key": "client-key",
        "api_base": "http://elsewhere",
        "mock_response": "pwned",
        "store": True,
        "stream": False,
    }

    request = build_provider_request(
        make_deployment(), "chat", body, api_key="gateway-key", stream=False
    )

    assert request.arguments == {
        "model": "anthropic/claude-3-5-haiku-20241022",
        "messages": [{"role": "user", "content": "Bonjour"}],
        "temperature": 0.1,
        "tools": [],
        "api_key": "gateway-key",
        "api_base": "https://api.anthropic.com",
        "num_retries": 0,
        "drop_params": True,
    }
    assert request.dropped == ("api_base", "api_key", "mock_response", "store")


def test_a_stream_always_asks_for_usage() -> None:
    body = {"model": "m", "prompt": "x", "stream": True, "stream_options": {"include_usage": False}}

    request = build_provider_request(
        make_deployment(api_base=None), "completions", body, api_key=None, stream=True
    )

    assert request.arguments["stream"] is True
    assert request.arguments["stream_options"] == {"include_usage": True}
    assert "api_key" not in request.arguments and "api_base" not in request.arguments


def test_embeddings_keep_their_own_parameters() -> None:
    body = {"model": "m", "input": ["a"], "dimensions": 256, "temperature": 1.0}

    request = build_provider_request(
        make_deployment(), "embeddings", body, api_key="k", stream=False
    )

    assert request.arguments["input"] == ["a"] and request.arguments["dimensions"] == 256
    assert request.dropped == ("temperature",)


def test_an_unknown_endpoint_is_refused() -> None:
    with pytest.raises(UnsupportedEndpoint):
        build_provider_request(make_deployment(), "images", {}, api_key=None, stream=False)


@pytest.mark.slow
def test_importing_the_provider_client_does_not_import_litellm() -> None:
    # A fresh interpreter: litellm takes seconds to import and must wait for the constructor.
    code = (
        "import sys, gateway.backends.litellm.client, gateway.routing.router; "
        "sys.exit(1 if 'litellm' in sys.modules else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], check=False, timeout=60)

    assert result.returncode == 0
