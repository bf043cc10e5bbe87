"""The knobs of replica selection, health tracking and retries, in one immutable value.

Built once from the settings at start and handed to the router and the replica monitor.
Defaults suit a few vLLM replicas per deployment on one site.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RoutingOptions:
    """Every routing parameter; durations in seconds.

    Load score (see :mod:`gateway.routing.balancer`): ``waiting_weight`` is the extra weight of
    a request queued at the server (queueing is what lengthens time to first token) and
    ``kv_cache_weight`` the score added by a full KV cache (a nearly full cache preempts).
    A replica is *overloaded* for affinity purposes when its score exceeds the least loaded
    candidate's by more than ``affinity_slack``.

    Retry budget (see :mod:`gateway.routing.retry_budget`): over the last ``retry_window_s``
    seconds, retries may not exceed ``retry_ratio`` x requests + ``retry_min_per_s`` x window.
    """

    metrics_interval_s: float = 1.0
    metrics_timeout_s: float = 1.0
    metrics_stale_after_s: float = 3.0
    health_interval_s: float = 5.0
    health_timeout_s: float = 2.0
    unhealthy_after: int = 3
    eject_after_failures: int = 3
    ejection_base_s: float = 5.0
    ejection_max_s: float = 300.0
    retry_ratio: float = 0.2
    retry_min_per_s: float = 3.0
    retry_window_s: float = 10.0
    waiting_weight: float = 2.0
    kv_cache_weight: float = 4.0
    affinity_slack: float = 3.0

    def __post_init__(self) -> None:
        positive = {
            "metrics_interval_s": self.metrics_interval_s,
            "metrics_timeout_s": self.metrics_timeout_s,
            "metrics_stale_after_s": self.metrics_stale_after_s,
            "health_interval_s": self.health_interval_s,
            "health_timeout_s": self.health_timeout_s,
            "ejection_base_s": self.ejection_base_s,
            "ejection_max_s": self.ejection_max_s,
            "retry_window_s": self.retry_window_s,
        }
        for name, value in positive.items():
            if value <= 0:
                raise ValueError(f"{name} must be positive, not {value}")
        if self.unhealthy_after < 1 or self.eject_after_failures < 1:
            raise ValueError("unhealthy_after and eject_after_failures must be at least 1")
        if min(self.retry_ratio, self.retry_min_per_s, self.affinity_slack) < 0:
            raise ValueError("retry_ratio, retry_min_per_s and affinity_slack must not be negative")
        if min(self.waiting_weight, self.kv_cache_weight) < 0:
            raise ValueError("waiting_weight and kv_cache_weight must not be negative")
