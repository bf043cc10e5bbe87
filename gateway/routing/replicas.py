"""Replicas of a deployment, and the two load-blind ways of choosing among them.

The load-aware choice (vLLM metrics, affinity) lives in :mod:`gateway.routing.balancer`;
round-robin and least-outstanding-requests stay here as its fallback and as baselines.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from gateway.catalog import Deployment
from gateway.routing.health import ReplicaHealth
from gateway.routing.load_signals import LoadSample


@dataclass(eq=False, slots=True)
class Replica:
    """One model server (a vLLM process) behind a base URL ending in ``/v1``.

    ``model`` is the catalog model it serves for this deployment; ``in_flight`` counts this
    gateway's requests on it (fresh), ``load`` the last reading of its ``/metrics`` (may lag).
    """

    deployment: Deployment
    base_url: str
    model: str = ""
    in_flight: int = 0
    served_requests: int = 0
    load: LoadSample | None = None
    health: ReplicaHealth = field(default_factory=ReplicaHealth)

    @property
    def label(self) -> str:
        return f"{self.deployment.name}@{self.base_url}"

    @property
    def served_model(self) -> str:
        """The model name the server knows (``model_name`` label of its metrics)."""
        return self.deployment.served_model_name or self.model

    @property
    def root_url(self) -> str:
        """The server root, where vLLM serves ``/health`` and ``/metrics`` (base URL minus
        its ``/v1``)."""
        return self.base_url.removesuffix("/v1")


class Picker(Protocol):
    """A way to choose one replica among candidates that are all allowed and available."""

    def pick(self, pool: Sequence[Replica], affinity_key: str | None, now: float) -> Replica:
        """One replica of ``pool`` (never empty)."""
        ...


class RoundRobinPicker:
    """Takes candidates in turn, ignoring load and affinity (a baseline)."""

    def __init__(self) -> None:
        self._turn = itertools.count()

    def pick(self, pool: Sequence[Replica], affinity_key: str | None, now: float) -> Replica:
        return pool[next(self._turn) % len(pool)]


class LeastOutstandingPicker:
    """Picks the replica with the fewest requests in flight (ties broken in rotation).

    Least-outstanding-requests adapts to replicas of different speeds without any
    configuration: a slow replica keeps its requests longer and so receives fewer new ones.
    It ignores affinity.
    """

    def __init__(self) -> None:
        self._rotation = itertools.count()

    def pick(self, pool: Sequence[Replica], affinity_key: str | None, now: float) -> Replica:
        fewest = min(r.in_flight for r in pool)
        tied = [r for r in pool if r.in_flight == fewest]
        return tied[next(self._rotation) % len(tied)]
