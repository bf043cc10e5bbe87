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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import aiohttp
import orjson

from gateway.backends.forward import Forward
from gateway.backends.protocol import (
    AnswerTooLarge,
    Backend,
    ByteStream,
    ReplicaUnreachable,
    UpstreamReply,
)
from gateway.catalog import Catalog, Deployment, ModelSpec
from gateway.errors import (
    GatewayError,
    NoDeploymentAvailable,
    UpstreamError,
    UpstreamRejected,
    UpstreamTimeout,
)
from gateway.routing.balancer import LoadAwarePicker
from gateway.routing.blame import Suspects, signals_bad_request
from gateway.routing.monitor import ReplicaMonitor
from gateway.routing.options import RoutingOptions
from gateway.routing.replicas import Picker, Replica
from gateway.routing.retry_budget import RetryBudget

log = logging.getLogger("hygie.router")

# Statuses that say "this replica cannot serve now", so another replica may.
_RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})


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
    # A few replicas at most: a list is cheaper to make and search than a set.
    tried: list[Replica] = field(default_factory=list)


class Router:
    """Holds every replica of every deployment and forwards requests to them.

    ``backends`` maps deployment names to the :class:`Backend` that reaches them (a deployment
    without one is not routed to). ``max_attempts`` bounds the replicas contacted per group.
    ``picker`` chooses among available candidates (default: :class:`LoadAwarePicker`);
    ``clock`` is the monotonic clock that health and budget times are measured on.
    """

    def __init__(
        self,
        catalog: Catalog,
        backends: Mapping[str, Backend],
        *,
        max_attempts: int = 3,
        options: RoutingOptions | None = None,
        picker: Picker | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._backends = dict(backends)
        self._options = options or RoutingOptions()
        self._picker = picker or LoadAwarePicker(self._options)
        self._clock = clock
        self._budget = RetryBudget(self._options, clock)
        self._max_attempts = max_attempts
        # Every kind of upstream is a list of replicas: they share the picker, attempt count,
        # health and ejection, whatever answers behind them.
        self._replicas: dict[str, list[Replica]] = {
            deployment.name: [
                Replica(deployment, target, model.name)
                for target in self._backends[deployment.name].targets()
            ]
            for model in catalog.models
            for deployment in model.deployments
            if deployment.name in self._backends
        }

    async def close(self) -> None:
        """Close what the backends opened themselves (not the shared session)."""
        for backend in {id(b): b for b in self._backends.values()}.values():
            await backend.close()

    def replicas_of(self, deployments: Sequence[Deployment]) -> list[Replica]:
        """Every replica of the given deployments."""
        return [r for d in deployments for r in self._replicas.get(d.name, ())]

    def all_replicas(self) -> list[Replica]:
        return [r for replicas in self._replicas.values() for r in replicas]

    def provider_of(self, replica: Replica) -> str:
        """Who serves ``replica``'s answers (``gen_ai.provider.name``)."""
        return self._backends[replica.deployment.name].provider

    def monitor(self, session: aiohttp.ClientSession) -> ReplicaMonitor:
        """The background watch of this router's replicas (start it at startup, stop at
        shutdown)."""
        polled = [r for r in self.all_replicas() if self._backends[r.deployment.name].polled]
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
        answer, replica = await self._forward(
            forward, [replicas, *fallbacks], attempts, affinity_key, stream=False
        )
        assert isinstance(answer, UpstreamReply)
        return answer, replica

    async def open_stream(
        self,
        forward: Forward,
        replicas: Sequence[Replica],
        attempts: Attempts,
        *,
        fallbacks: Sequence[Sequence[Replica]] = (),
        affinity_key: str | None = None,
    ) -> tuple[ByteStream, Replica]:
        """Open a stream on a replica that answers 200; the replica stays counted in flight.

        The caller must call :meth:`stream_finished` when done with the stream. Groups as in
        :meth:`complete`; a 4xx answer (or a 5xx saying the request was bad) raises its error at
        once.
        """
        answer, replica = await self._forward(
            forward, [replicas, *fallbacks], attempts, affinity_key, stream=True
        )
        if isinstance(answer, UpstreamReply):
            raise upstream_error_from(answer.status, answer.body)
        return answer, replica

    async def _forward(
        self,
        forward: Forward,
        groups: list[Sequence[Replica]],
        attempts: Attempts,
        affinity_key: str | None,
        *,
        stream: bool,
    ) -> tuple[UpstreamReply | ByteStream, Replica]:
        """The attempt loop, whatever the upstream kind: the first answer that is not a
        retryable 5xx is returned (an open stream keeps its replica counted in flight)."""
        self._budget.record_request()
        plan = _Plan(groups)
        suspects = Suspects()
        last: GatewayError | None = None
        while (replica := self._next(plan, attempts, affinity_key)) is not None:
            backend = self._backends[replica.deployment.name]
            model = replica.model or None
            replica.in_flight += 1
            held = False
            try:
                if stream:
                    answer = await backend.open_stream(replica.base_url, model, forward)
                else:
                    answer = await backend.complete(replica.base_url, model, forward)
                held = not isinstance(answer, UpstreamReply)
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
                # Cancelled (client gone, shutdown) or answered whole: nothing is held.
                if not held:
                    replica.in_flight -= 1
            if (
                isinstance(answer, UpstreamReply)
                and answer.status in _RETRYABLE_STATUSES
                and not signals_bad_request(answer.body)
            ):
                self._suspect(replica, plan, suspects, attempts, answer.status)
                last = upstream_error_from(answer.status, answer.body)
                continue
            self._served(replica, plan, suspects)
            return answer, replica
        raise last or UpstreamError("No replica of this model is configured.")

    def stream_finished(self, replica: Replica, *, failed: bool = False) -> None:
        """Release a stream opened by :meth:`open_stream`; ``failed`` when the upstream broke
        it (reset, malformed data), which counts towards ejecting the replica."""
        replica.in_flight -= 1
        if failed:
            self._count_failure(replica)

    def _next(self, plan: _Plan, attempts: Attempts, affinity_key: str | None) -> Replica | None:
        now = self._clock()
        while plan.group < len(plan.groups):
            if plan.in_group < self._max_attempts:
                tried = plan.tried
                pool = [
                    r for r in plan.groups[plan.group] if r.health.available(now) and r not in tried
                ]
                if pool:
                    if attempts.count and not self._budget.try_spend():
                        raise NoDeploymentAvailable(
                            "The model servers are failing and the gateway's retry budget is "
                            f"spent (last failure: {attempts.failures[-1]}).",
                            retry_after_s=self._budget.retry_after_s(),
                        )
                    replica = self._picker.pick(pool, affinity_key, now)
                    tried.append(replica)
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
