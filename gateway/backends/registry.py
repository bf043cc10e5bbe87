"""One :class:`~gateway.backends.protocol.Backend` per deployment of the catalog, built at start."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.backends.protocol import Backend
from gateway.backends.vllm import OpenAICompatibleClient, VllmBackend
from gateway.catalog import Catalog, Deployment, DeploymentKind

if TYPE_CHECKING:
    from gateway.backends.litellm.client import LiteLLMClient


def build_backends(
    catalog: Catalog,
    client: OpenAICompatibleClient,
    secrets: dict[str, str],
    litellm: LiteLLMClient | None,
) -> dict[str, Backend]:
    """Backends by deployment name. A deployment's credential is the secret its ``api_key_env``
    names (a bearer header for vLLM, the provider key for litellm). Provider deployments are
    left out when there is no litellm client."""
    backends: dict[str, Backend] = {}
    for model in catalog.models:
        for deployment in model.deployments:
            secret = secrets.get(deployment.api_key_env) if deployment.api_key_env else None
            if deployment.kind is DeploymentKind.VLLM:
                backends[deployment.name] = VllmBackend(deployment, client, _headers(secret))
            elif litellm is not None:
                backends[deployment.name] = _provider(deployment, litellm, secret)
    return backends


def _headers(secret: str | None) -> dict[str, str] | None:
    if secret is None:
        return None
    return {"Content-Type": "application/json", "Authorization": f"Bearer {secret}"}


def _provider(deployment: Deployment, litellm: LiteLLMClient, secret: str | None) -> Backend:
    from gateway.backends.litellm.backend import LiteLLMBackend

    return LiteLLMBackend(deployment, litellm, secret)
