"""Replicas of a deployment and least-outstanding-requests selection."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

from gateway.catalog import Deployment


@dataclass(eq=False, slots=True)
class Replica:
    """One model server (a vLLM process) behind a base URL ending in ``/v1``."""

    deployment: Deployment
    base_url: str
    in_flight: int = 0
    served_requests: int = field(default=0)

    @property
    def label(self) -> str:
        return f"{self.deployment.name}@{self.base_url}"


class ReplicaPicker:
    """Picks the replica with the fewest requests in flight (ties broken in rotation).

    Least-outstanding-requests adapts to replicas of different speeds without any
    configuration: a slow replica keeps its requests longer and so receives fewer new ones.
    """

    def __init__(self) -> None:
        self._rotation = itertools.count()

    def pick(self, candidates: Iterable[Replica], exclude: set[int]) -> Replica | None:
        """The least busy candidate not in ``exclude`` (ids of replicas already tried)."""
        pool = [r for r in candidates if id(r) not in exclude]
        if not pool:
            return None
        fewest = min(r.in_flight for r in pool)
        tied = [r for r in pool if r.in_flight == fewest]
        return tied[next(self._rotation) % len(tied)]
