"""Choosing a replica and forwarding to it, retrying elsewhere while no byte reached the client.

The caller passes the replicas it is allowed to use (the sovereignty filter is applied before
this module is reached), optionally followed by fallback groups (the allowed replicas of other
models, in order of preference); retries and failover never leave those sets. A group is left
for the next one only when it is exhausted: every replica tried, unavailable (unhealthy or
ejected, see :mod:`gateway.routing.health`), or ``max_attempts`` tried in it.

Outcomes, in order of precedence:

- the first answer that is not a 5xx (nor a connection failure or timeout) is returned;
- a retry refused by the retry budget (:mod:`gateway.routing.retry_budget`) raises
  :class:`NoDeploymentAvailable` (503, ``Retry-After``);
- when no replica of any group could even be tried (all unavailable), the same 503 is raised;
- otherwise the last replica's error is raised (502 / 504, or its 5xx message).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import aiohttp
import orjson

from gateway.backends.litellm.errors import ProviderRejected
from gateway.backends.litellm.stream import ProviderStreamResponse
from gateway.backends.server_params import params_to_drop
from gateway.backends.vllm import (
    AnswerTooLarge,
    OpenAICompatibleClient,
    ReplicaUnreachable,
    UpstreamReply,
)
from gateway.catalog import Catalog, Deployment, DeploymentKind, ModelSpec
from gateway.errors import (
    GatewayError,
    NoDeploymentAvailable,
    UpstreamError,
    UpstreamRejected,
    UpstreamTimeout,
)
from gateway.http.openai_request import OpenAICall
from gateway.routing.balancer import LoadAwarePicker
from gateway.routing.blame import Suspects, signals_bad_request
from gateway.routing.monitor import ReplicaMonitor
from gateway.routing.options import RoutingOptions
from gateway.routing.replicas import Picker, Replica
from gateway.routing.retry_budget import RetryBudget

if TYPE_CHECKING:
    from gateway.backends.litellm.client import LiteLLMClient

log = logging.getLogger("hygie.router")

ENDPOINT_PATHS = {
    "chat": "/chat/completions",
    "completions": "/completions",
    "embeddings": "/embeddings",
}

# Statuses that say "this replica cannot serve now", so another replica may.
_RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
# An error answer is read this far, no further (its message is all the client is told).
_ERROR_BODY_BYTES = 64 * 1024


@dataclass(slots=True)
class Attempts:
    """What happened on the way to an answer: replicas tried and why they were left.

    ``tried`` lists every replica contacted, in order (``deployment@base_url``); ``failures``
    the reason each failed one was left. ``fallback_model`` is the model of the group of the
    last attempt when that group is a fallback (None when it is the requested model's), so on
    success it names the model that answered.
    """

    tried: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    fallback_model: str | None = None

    @property
    def count(self) -> int:
        return len(self.tried)


class ReplicaState(NamedTuple):
    """One replica as the metrics endpoint shows it.

    ``ejected_until`` is a Unix time (None when not ejected); ``waiting``, ``running`` and
    ``kv_cache`` are the last ``/metrics`` reading, None when missing or stale.
    """

    deployment: str
    base_url: str
    healthy: bool
    ejected_until: float | None
    in_flight: int
    waiting: float | None
    running: float | None
    kv_cache: float | None


class Forward:
    """One request ready to send; the body is built once per model name a deployment serves
    and per set of server-side parameters it drops (see :mod:`gateway.backends.server_params`).
    """

    def __init__(self, call: OpenAICall) -> None:
        self.endpoint = call.endpoint
        self._call = call
        self._bodies: dict[tuple[str | None, tuple[str, ...], bool], bytes] = {}

    def json_for(self, model: str | None) -> dict[str, Any]:
        """The parsed body naming ``model`` (for providers reached through litellm)."""
        body = self._call.body
        return body if model is None or body.get("model") == model else {**body, "model": model}

    def dropped_for(self, deployment: Deployment) -> tuple[str, ...]:
        """The server-side parameters removed from what ``deployment`` receives."""
        return params_to_drop(self._call.body, deployment.allowed_params)

    def body_for(self, deployment: Deployment, model: str | None = None) -> bytes:
        """The body for ``deployment``, naming ``model`` (a fallback) unless the deployment
        serves it under another name."""
        name = deployment.served_model_name or model
        drop = self.dropped_for(deployment)
        continuous = deployment.kind is DeploymentKind.VLLM
        key = (name, drop, continuous)
        body = self._bodies.get(key)
        if body is None:
            if drop:
                log.info("dropped server-side parameters for %s: %s", deployment.name, drop)
            body = self._bodies[key] = self._call.upstream_body(
                name, drop=drop, continuous_usage=continuous
            )
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


@dataclass(slots=True)
class _Plan:
    """Where one request stands among its groups."""

    groups: list[Sequence[Replica]]
    group: int = 0
    in_group: int = 0
    tried: set[int] = field(default_factory=set)


class Router:
    """Holds every replica of every deployment and forwards requests to them.

    ``max_attempts`` bounds the replicas contacted per group. ``picker`` chooses among available
    candidates (default: :class:`LoadAwarePicker`); ``clock`` is the monotonic clock that health
    and budget times are measured on.
    """

    def __init__(
        self,
        catalog: Catalog,
        client: OpenAICompatibleClient,
        *,
        upstream_headers: dict[str, dict[str, str]],
        max_attempts: int = 3,
        options: RoutingOptions | None = None,
        picker: Picker | None = None,
        clock: Callable[[], float] = time.monotonic,
        litellm: LiteLLMClient | None = None,
        provider_keys: dict[str, str] | None = None,
    ) -> None:
        self._client = client
        self._litellm = litellm
        self._provider_keys = provider_keys or {}
        self._options = options or RoutingOptions()
        self._picker = picker or LoadAwarePicker(self._options)
        self._clock = clock
        self._budget = RetryBudget(self._options, clock)
        self._max_attempts = max_attempts
        self._headers = upstream_headers
        # An external provider is one logical replica ("litellm:<provider model>"): it shares the
        # picker, attempt count, health and ejection with vLLM replicas.
        self._replicas: dict[str, list[Replica]] = {
            deployment.name: (
                [Replica(deployment, url, model.name) for url in deployment.replica_urls()]
                if deployment.kind is DeploymentKind.VLLM
                else [Replica(deployment, f"litellm:{deployment.litellm_model}", model.name)]
            )
            for model in catalog.models
            for deployment in model.deployments
            if deployment.kind is DeploymentKind.VLLM or litellm is not None
        }

    async def close(self) -> None:
        """Close what the router's clients opened themselves (not the shared session)."""
        await self._client.close()

    def replicas_of(self, deployments: Sequence[Deployment]) -> list[Replica]:
        """Every replica of the given deployments."""
        return [r for d in deployments for r in self._replicas.get(d.name, ())]

    def all_replicas(self) -> list[Replica]:
        return [r for replicas in self._replicas.values() for r in replicas]

    def monitor(self, session: aiohttp.ClientSession) -> ReplicaMonitor:
        """The background watch of this router's replicas (start it at startup, stop at
        shutdown)."""
        polled = [r for r in self.all_replicas() if r.deployment.kind is DeploymentKind.VLLM]
        return ReplicaMonitor(polled, session, self._options, self._clock)

    def replica_states(self) -> list[ReplicaState]:
        """Health and load of every replica, for the metrics endpoint."""
        now, wall = self._clock(), time.time()
        states = []
        for replica in self.all_replicas():
            health = replica.health
            sample = replica.load
            stale = sample is None or now - sample.taken_at > self._options.metrics_stale_after_s
            load = None if stale or sample is None else sample.load
            states.append(
                ReplicaState(
                    deployment=replica.deployment.name,
                    base_url=replica.base_url,
                    healthy=health.healthy,
                    ejected_until=(
                        wall + health.ejected_until - now if health.ejected(now) else None
                    ),
                    in_flight=replica.in_flight,
                    waiting=load.waiting if load else None,
                    running=load.running if load else None,
                    kv_cache=load.kv_cache if load else None,
                )
            )
        return states

    def _headers_for(self, replica: Replica) -> dict[str, str]:
        return self._headers.get(replica.deployment.name, _JSON_HEADERS)

    def _body(self, forward: Forward, replica: Replica) -> bytes:
        return forward.body_for(replica.deployment, replica.model or None)

    async def complete(
        self,
        forward: Forward,
        replicas: Sequence[Replica],
        attempts: Attempts,
        *,
        fallbacks: Sequence[Sequence[Replica]] = (),
        affinity_key: str | None = None,
    ) -> tuple[UpstreamReply, Replica]:
        """Send a non-streaming request; retry on another replica if one cannot answer.

        ``replicas`` is the first group, ``fallbacks`` the next ones in order. A 4xx answer, or
        a 5xx that says the request was bad, is returned as it is (the replica worked; the
        request is at fault). An answer over the client's size limit is a 502, not retried.
        """
        plan = self._start(replicas, fallbacks)
        suspects = Suspects()
        last: GatewayError | None = None
        while (replica := self._next(plan, attempts, affinity_key)) is not None:
            replica.in_flight += 1
            try:
                reply = await self._complete_on(replica, forward)
            except ReplicaUnreachable as exc:
                self._failed(replica, attempts, str(exc))
                last = _unreachable_error(exc)
                continue
            except AnswerTooLarge as exc:
                log.warning("%s answered more than %d bytes", replica.label, exc.limit)
                raise UpstreamError(
                    f"The model server's answer is larger than the gateway accepts ({exc.limit} "
                    "bytes)."
                ) from None
            finally:
                replica.in_flight -= 1
            if reply.status in _RETRYABLE_STATUSES and not signals_bad_request(reply.body):
                self._suspect(replica, plan, suspects, attempts, reply.status)
                last = upstream_error_from(reply.status, reply.body)
                continue
            self._served(replica, plan, suspects)
            return reply, replica
        raise last or UpstreamError("No replica of this model is configured.")

    async def open_stream(
        self,
        forward: Forward,
        replicas: Sequence[Replica],
        attempts: Attempts,
        *,
        fallbacks: Sequence[Sequence[Replica]] = (),
        affinity_key: str | None = None,
    ) -> tuple[aiohttp.ClientResponse | ProviderStreamResponse, Replica]:
        """Open a stream on a replica that answers 200; the replica stays counted in flight.

        The caller must call :meth:`stream_finished` when done with the response. Groups as in
        :meth:`complete`; a 4xx answer (or a 5xx saying the request was bad) raises its error at
        once.
        """
        plan = self._start(replicas, fallbacks)
        suspects = Suspects()
        last: GatewayError | None = None
        while (replica := self._next(plan, attempts, affinity_key)) is not None:
            replica.in_flight += 1
            if replica.deployment.kind is DeploymentKind.LITELLM:
                try:
                    return await self._open_provider_stream(replica, forward), replica
                except ReplicaUnreachable as exc:
                    replica.in_flight -= 1
                    self._failed(replica, attempts, str(exc))
                    last = _unreachable_error(exc)
                    continue
                except BaseException:
                    replica.in_flight -= 1
                    raise
            try:
                response = await self._client.open_stream(
                    replica.base_url + ENDPOINT_PATHS[forward.endpoint],
                    self._body(forward, replica),
                    self._headers_for(replica),
                    replica.deployment.timeouts,
                )
            except ReplicaUnreachable as exc:
                replica.in_flight -= 1
                self._failed(replica, attempts, str(exc))
                last = _unreachable_error(exc)
                continue
            except BaseException:
                replica.in_flight -= 1  # cancelled (client gone, shutdown): nothing is held
                raise
            if response.status == 200:
                self._served(replica, plan, suspects)
                return response, replica
            try:
                payload = await response.content.read(_ERROR_BODY_BYTES)
            except aiohttp.ClientError:
                payload = b""
            finally:
                response.release()  # closes the connection when the body was not read whole
                replica.in_flight -= 1
            error = upstream_error_from(response.status, payload)
            if response.status not in _RETRYABLE_STATUSES or signals_bad_request(payload):
                self._served(replica, plan, suspects)
                raise error
            self._suspect(replica, plan, suspects, attempts, response.status)
            last = error
        raise last or UpstreamError("No replica of this model is configured.")

    async def _complete_on(self, replica: Replica, forward: Forward) -> UpstreamReply:
        deployment = replica.deployment
        if deployment.kind is DeploymentKind.LITELLM:
            assert self._litellm is not None
            return await self._litellm.complete(
                deployment,
                forward.endpoint,
                forward.json_for(replica.model or None),
                self._provider_keys.get(deployment.name),
            )
        return await self._client.complete(
            replica.base_url + ENDPOINT_PATHS[forward.endpoint],
            self._body(forward, replica),
            self._headers_for(replica),
            deployment.timeouts,
        )

    async def _open_provider_stream(
        self, replica: Replica, forward: Forward
    ) -> ProviderStreamResponse:
        """Open a provider stream and wait for its first event (failover stays possible)."""
        assert self._litellm is not None
        deployment = replica.deployment
        events = self._litellm.stream(
            deployment,
            forward.endpoint,
            forward.json_for(replica.model or None),
            self._provider_keys.get(deployment.name),
        )
        try:
            first = await anext(events)
        except ProviderRejected as exc:
            await events.aclose()
            self._succeeded(replica)  # the provider works; the request is at fault
            raise upstream_error_from(exc.status, exc.body) from None
        except StopAsyncIteration:
            first = b""
        self._succeeded(replica)
        return ProviderStreamResponse(first, events)

    def stream_finished(self, replica: Replica, *, failed: bool = False) -> None:
        """Release a stream opened by :meth:`open_stream`; ``failed`` when the upstream broke
        it (reset, malformed data), which counts towards ejecting the replica."""
        replica.in_flight -= 1
        if failed:
            self._count_failure(replica)

    def _start(self, replicas: Sequence[Replica], fallbacks: Sequence[Sequence[Replica]]) -> _Plan:
        self._budget.record_request()
        return _Plan([replicas, *fallbacks])

    def _next(self, plan: _Plan, attempts: Attempts, affinity_key: str | None) -> Replica | None:
        now = self._clock()
        while plan.group < len(plan.groups):
            if plan.in_group < self._max_attempts:
                pool = [
                    r
                    for r in plan.groups[plan.group]
                    if id(r) not in plan.tried and r.health.available(now)
                ]
                if pool:
                    if attempts.count and not self._budget.try_spend():
                        raise NoDeploymentAvailable(
                            "The model servers are failing and the gateway's retry budget is "
                            f"spent (last failure: {attempts.failures[-1]}).",
                            retry_after_s=self._budget.retry_after_s(),
                        )
                    replica = self._picker.pick(pool, affinity_key, now)
                    plan.tried.add(id(replica))
                    plan.in_group += 1
                    attempts.tried.append(replica.label)
                    attempts.fallback_model = replica.model if plan.group else None
                    return replica
            plan.group, plan.in_group = plan.group + 1, 0
        if not attempts.count and any(plan.groups):
            raise NoDeploymentAvailable(
                "Every server of this model is unhealthy or temporarily ejected.",
                retry_after_s=self._retry_after(plan, now),
            )
        return None

    def _retry_after(self, plan: _Plan, now: float) -> int:
        """Seconds until some replica may be back: an ejection ends, or a health check runs."""
        waits = [
            replica.health.ejected_until - now
            if replica.health.healthy
            else self._options.health_interval_s
            for group in plan.groups
            for replica in group
        ]
        return max(1, math.ceil(min(waits)))

    def _suspect(
        self, replica: Replica, plan: _Plan, suspects: Suspects, attempts: Attempts, status: int
    ) -> None:
        """A 5xx: counted against ``replica`` only if another replica serves the request."""
        attempts.failures.append(f"{replica.label}: HTTP {status}")
        suspects.add(plan.group, replica)

    def _served(self, replica: Replica, plan: _Plan, suspects: Suspects) -> None:
        """``replica`` answered without a 5xx: the earlier 5xx of its group were the replicas'."""
        self._succeeded(replica)
        for suspect in suspects.convicted(plan.group):
            self._count_failure(suspect)

    def _failed(self, replica: Replica, attempts: Attempts, reason: str) -> None:
        attempts.failures.append(f"{replica.label}: {reason}")
        self._count_failure(replica)

    def _count_failure(self, replica: Replica) -> None:
        # Never all at once: a replica is ejected only while another one of its deployment
        # is available to take its share.
        now = self._clock()
        siblings = self._replicas.get(replica.deployment.name, ())
        may_eject = any(r is not replica and r.health.available(now) for r in siblings)
        replica.health.record_failure(now, self._options, may_eject=may_eject)

    @staticmethod
    def _succeeded(replica: Replica) -> None:
        replica.served_requests += 1
        replica.health.record_success()


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
