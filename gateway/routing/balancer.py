"""vLLM-aware replica choice: least loaded by a score, with conversation affinity.

**Load score** (lower is better), in "requests" units::

    others  = max(0, running + waiting - in_flight_at_sample)   # load other clients put there
    total   = in_flight + others                                 # requests at the server now
    queued  = max(0, total - capacity)                           # those waiting for a slot
    score   = total + waiting_weight * queued + kv_cache_weight * kv_cache

``in_flight`` is the gateway's own count (always fresh); ``running``, ``waiting`` and
``kv_cache`` come from the replica's last ``/metrics`` reading (up to one poll interval old),
and ``in_flight_at_sample`` is our own count when it was read, so our requests are not counted
twice. ``capacity`` is the number of requests the server was seen running while others waited
(see :class:`LoadSample`); with it, requests we send beyond the server's slots count as queued
at once, without waiting for the next reading (stale readings would otherwise make every
gateway pile onto the replica that looked idle). Before a server was ever seen full, nothing
counts as queued. Queued requests weigh more because they wait for a slot before their first
token.

**Degraded mode**: when any candidate has no reading younger than ``metrics_stale_after_s``,
all candidates are compared on ``in_flight`` alone (least outstanding requests), so a replica
whose metrics are missing is neither favoured nor avoided.

**Affinity**: with a key, the replica the key maps to by rendezvous hashing is chosen unless it
is *overloaded*: its score exceeds the least loaded candidate's by more than ``affinity_slack``.
Otherwise, and without a key, the least loaded candidate wins (ties in rotation).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from gateway.routing.affinity import preferred_replica
from gateway.routing.options import RoutingOptions
from gateway.routing.replicas import Replica

_TIE = 1e-9


def load_score(replica: Replica, now: float, options: RoutingOptions) -> float | None:
    """The replica's load score, or None when its metrics are missing or stale."""
    sample = replica.load
    if sample is None or now - sample.taken_at > options.metrics_stale_after_s:
        return None
    load = sample.load
    others = max(0.0, load.running + load.waiting - sample.in_flight_at_sample)
    total = replica.in_flight + others
    queued = 0.0 if sample.capacity is None else max(0.0, total - sample.capacity)
    return (
        total + options.waiting_weight * queued + options.kv_cache_weight * (load.kv_cache or 0.0)
    )


class LoadAwarePicker:
    """Chooses by load score and affinity, as the module docstring describes."""

    def __init__(self, options: RoutingOptions) -> None:
        self._options = options
        self._rotation = itertools.count()

    def scores(self, pool: Sequence[Replica], now: float) -> list[float]:
        """The score of each candidate, or their in-flight counts in degraded mode."""
        scores = [load_score(replica, now, self._options) for replica in pool]
        if any(score is None for score in scores):
            return [float(replica.in_flight) for replica in pool]
        return [score for score in scores if score is not None]

    def pick(self, pool: Sequence[Replica], affinity_key: str | None, now: float) -> Replica:
        scores = self.scores(pool, now)
        best = min(scores)
        if affinity_key is not None:
            preferred = preferred_replica(pool, affinity_key)
            if scores[pool.index(preferred)] <= best + self._options.affinity_slack:
                return preferred
        tied = [
            replica for replica, score in zip(pool, scores, strict=True) if score <= best + _TIE
        ]
        return tied[next(self._rotation) % len(tied)]
