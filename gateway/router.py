"""Choosing a replica and forwarding to it, retrying elsewhere while no byte reached the client.

The caller passes the replicas it is allowed to use (the sovereignty filter is applied before
this module is reached); retries and failover never leave that set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp
import orjson

from gateway.catalog import Catalog, Deployment, DeploymentKind, ModelSpec
from gateway.errors import GatewayError, UpstreamError, UpstreamRejected, UpstreamTimeout
from gateway.openai_request import OpenAICall
from gateway.upstream.replicas import Replica, ReplicaPicker
from gateway.upstream.vllm import OpenAICompatibleClient, ReplicaUnreachable, UpstreamReply

ENDPOINT_PATHS = {
    "chat": "/chat/completions",
    "completions": "/completions",
    "embeddings": "/embeddings",
}

# Statuses that say "this replica cannot serve now", so another replica may.
_RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})


@dataclass(slots=True)
class Attempts:
    """What happened on the way to an answer: replicas tried and why they were left."""

    tried: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.tried)


class Forward:
    """One request ready to send; the body is built once per model name a deployment serves."""

    def __init__(self, call: OpenAICall) -> None:
        self.endpoint = call.endpoint
        self._call = call
        self._bodies: dict[str | None, bytes] = {}

    def body_for(self, deployment: Deployment) -> bytes:
        name = deployment.served_model_name
        body = self._bodies.get(name)
        if body is None:
            body = self._bodies[name] = self._call.upstream_body(name)
        return body


def upstream_error_from(status: int, payload: bytes) -> GatewayError:
    """Turn an upstream error answer into the error the client sees (status and message kept)."""
    message = f"The model server answered HTTP {status}."
    param: str | None = None
    try:
        parsed = orjson.loads(payload)
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        error = parsed.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            message = error["message"]
            param = error.get("param") if isinstance(error.get("param"), str) else None
        elif isinstance(parsed.get("detail"), str):
            message = parsed["detail"]
    if status >= 500:
        return UpstreamError(f"The model server failed: {message}")
    return UpstreamRejected(status, message, param=param, code=None)


class Router:
    """Holds every replica of every deployment and forwards requests to them."""

    def __init__(
        self,
        catalog: Catalog,
        client: OpenAICompatibleClient,
        *,
        upstream_headers: dict[str, dict[str, str]],
        max_attempts: int = 3,
    ) -> None:
        self._client = client
        self._picker = ReplicaPicker()
        self._max_attempts = max_attempts
        self._headers = upstream_headers
        self._replicas: dict[str, list[Replica]] = {
            deployment.name: [Replica(deployment, url) for url in deployment.replica_urls()]
            for model in catalog.models
            for deployment in model.deployments
            if deployment.kind is DeploymentKind.VLLM
        }

    def replicas_of(self, deployments: Sequence[Deployment]) -> list[Replica]:
        """Every replica of the given deployments."""
        return [r for d in deployments for r in self._replicas.get(d.name, ())]

    def all_replicas(self) -> list[Replica]:
        return [r for replicas in self._replicas.values() for r in replicas]

    def _headers_for(self, replica: Replica) -> dict[str, str]:
        return self._headers.get(replica.deployment.name, _JSON_HEADERS)

    async def complete(
        self, forward: Forward, replicas: Sequence[Replica], attempts: Attempts
    ) -> tuple[UpstreamReply, Replica]:
        """Send a non-streaming request; retry on another replica if one cannot answer."""
        last: GatewayError | None = None
        while (replica := self._next(replicas, attempts)) is not None:
            replica.in_flight += 1
            try:
                reply = await self._client.complete(
                    replica.base_url + ENDPOINT_PATHS[forward.endpoint],
                    forward.body_for(replica.deployment),
                    self._headers_for(replica),
                    replica.deployment.timeouts,
                )
            except ReplicaUnreachable as exc:
                attempts.failures.append(f"{replica.label}: {exc}")
                last = _unreachable_error(exc)
                continue
            finally:
                replica.in_flight -= 1
            if reply.status in _RETRYABLE_STATUSES:
                attempts.failures.append(f"{replica.label}: HTTP {reply.status}")
                last = upstream_error_from(reply.status, reply.body)
                continue
            replica.served_requests += 1
            return reply, replica
        raise last or UpstreamError("No replica of this model is configured.")

    async def open_stream(
        self, forward: Forward, replicas: Sequence[Replica], attempts: Attempts
    ) -> tuple[aiohttp.ClientResponse, Replica]:
        """Open a stream on a replica that answers 200; the replica stays counted in flight.

        The caller must call :meth:`stream_finished` when done with the response.
        """
        last: GatewayError | None = None
        while (replica := self._next(replicas, attempts)) is not None:
            replica.in_flight += 1
            try:
                response = await self._client.open_stream(
                    replica.base_url + ENDPOINT_PATHS[forward.endpoint],
                    forward.body_for(replica.deployment),
                    self._headers_for(replica),
                    replica.deployment.timeouts,
                )
            except ReplicaUnreachable as exc:
                replica.in_flight -= 1
                attempts.failures.append(f"{replica.label}: {exc}")
                last = _unreachable_error(exc)
                continue
            except BaseException:
                replica.in_flight -= 1  # cancelled (client gone, shutdown): nothing is held
                raise
            if response.status == 200:
                replica.served_requests += 1
                return response, replica
            try:
                payload = await response.read()
            except aiohttp.ClientError:
                payload = b""
            finally:
                response.release()
                replica.in_flight -= 1
            error = upstream_error_from(response.status, payload)
            if response.status not in _RETRYABLE_STATUSES:
                raise error
            attempts.failures.append(f"{replica.label}: HTTP {response.status}")
            last = error
        raise last or UpstreamError("No replica of this model is configured.")

    @staticmethod
    def stream_finished(replica: Replica) -> None:
        replica.in_flight -= 1

    def _next(self, replicas: Sequence[Replica], attempts: Attempts) -> Replica | None:
        if attempts.count >= self._max_attempts:
            return None
        tried = {id(r) for r in replicas if r.label in attempts.tried}
        replica = self._picker.pick(replicas, tried)
        if replica is not None:
            attempts.tried.append(replica.label)
        return replica


_JSON_HEADERS = {"Content-Type": "application/json"}


def upstream_headers(catalog: Catalog, secrets: dict[str, str]) -> dict[str, dict[str, str]]:
    """Per-deployment request headers, with the credential named by ``api_key_env`` if any."""
    headers: dict[str, dict[str, str]] = {}
    for model in catalog.models:
        for deployment in model.deployments:
            if deployment.api_key_env and deployment.api_key_env in secrets:
                headers[deployment.name] = {
                    **_JSON_HEADERS,
                    "Authorization": f"Bearer {secrets[deployment.api_key_env]}",
                }
    return headers


def _unreachable_error(exc: ReplicaUnreachable) -> GatewayError:
    if exc.timed_out:
        return UpstreamTimeout("The model server did not answer in time.")
    return UpstreamError("The model server could not be reached.")


def model_for(catalog: Catalog, name: str, department: str) -> ModelSpec | None:
    """The model ``name`` if ``department`` may use it."""
    model = catalog.model(name)
    if model is None or not model.allows(department):
        return None
    return model
