"""Fixtures of the provider suite: the imitated providers on a real port, and a LiteLLMClient."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from gateway.backends.litellm.client import LiteLLMClient, prepare_litellm_environment
from gateway.catalog import Deployment
from gateway.http.local_server import BackgroundServer
from tests.providers.fake_providers import Recorder, create_fake_providers

LITELLM_MODELS = {
    "openai": "openai/gpt-4o-mini",
    "azure": "azure/gpt-4o-mini-hdf",
    "mistral": "mistral/mistral-small-latest",
    "anthropic": "anthropic/claude-3-5-haiku-20241022",
}
# Where each provider's API lives below its host (litellm appends the rest).
_API_ROOT = {"openai": "/v1", "azure": "", "mistral": "/v1", "anthropic": ""}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def litellm_environment() -> None:
    """What the gateway's settings do before litellm is imported (no network at import)."""
    prepare_litellm_environment(os.environ)


@pytest.fixture(scope="session")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="session")
def providers(recorder: Recorder) -> Iterator[BackgroundServer]:
    """One server imitating every provider, shared by the suite (tests use their own tags)."""
    with BackgroundServer(create_fake_providers(recorder)) as server:
        yield server


@pytest.fixture
async def client(litellm_environment: None) -> AsyncIterator[LiteLLMClient]:
    litellm_client = LiteLLMClient()
    yield litellm_client
    await litellm_client.aclose()


@pytest.fixture
def tag() -> str:
    """A path segment unique to the test, to find the requests it caused."""
    return uuid.uuid4().hex[:12]


DeploymentFactory = Callable[..., Deployment]


@pytest.fixture
def deployment_for(providers: BackgroundServer, tag: str) -> DeploymentFactory:
    """``deployment_for("anthropic", "ok")``: a litellm deployment aimed at the imitation."""

    def make(provider: str, scenario: str = "ok", **overrides: Any) -> Deployment:
        fields: dict[str, Any] = {
            "name": f"{provider}-test",
            "kind": "litellm",
            "litellm_model": LITELLM_MODELS[provider],
            "api_base": f"{providers.url}/{provider}/{tag}/{scenario}{_API_ROOT[provider]}",
            "api_key_env": "PROVIDER_KEY",
            "timeouts": {"connect_s": 1.0, "first_byte_s": 5.0, "idle_s": 5.0},
        }
        fields.update(overrides)
        return Deployment.model_validate(fields)

    return make
