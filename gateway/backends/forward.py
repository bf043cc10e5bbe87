"""One request ready to send upstream, built once and shared by every attempt."""

from __future__ import annotations

import logging
from typing import Any

from gateway.backends.server_params import params_to_drop
from gateway.catalog import Deployment
from gateway.http.openai_request import OpenAICall

log = logging.getLogger("hygie.router")


class Forward:
    """One request ready to send; the body is built once per model name a deployment serves
    and per set of server-side parameters it drops (see :mod:`gateway.backends.server_params`).
    """

    __slots__ = ("_bodies", "_call", "endpoint")

    def __init__(self, call: OpenAICall) -> None:
        self.endpoint = call.endpoint
        self._call = call
        self._bodies: dict[tuple[str | None, tuple[str, ...]], bytes] = {}

    @property
    def call(self) -> OpenAICall:
        return self._call

    def json_for(self, model: str | None) -> dict[str, Any]:
        """The parsed body naming ``model`` (for providers reached through litellm)."""
        body = self._call.body
        return body if model is None or body.get("model") == model else {**body, "model": model}

    def dropped_for(self, deployment: Deployment) -> tuple[str, ...]:
        """The server-side parameters removed from what ``deployment`` receives."""
        return params_to_drop(self._call.body, deployment.allowed_params)

    def body_for(self, deployment: Deployment, model: str | None = None) -> bytes:
        """The bytes an OpenAI-compatible server receives: naming ``model`` (a fallback) unless
        the deployment serves it under another name, asking for continuous usage."""
        name = deployment.served_model_name or model
        drop = self.dropped_for(deployment)
        key = (name, drop)
        body = self._bodies.get(key)
        if body is None:
            if drop:
                log.info("dropped server-side parameters for %s: %s", deployment.name, drop)
            body = self._bodies[key] = self._call.upstream_body(
                name, drop=drop, continuous_usage=True
            )
        return body
