"""Whether a replica may receive requests: active health checks and passive outlier ejection.

Two independent signals, both required for a replica to be *available*:

- **healthy** — the active check (``GET /health`` at the server root, see
  :mod:`gateway.routing.monitor`) failed fewer than ``unhealthy_after`` times in a row; one
  success makes the replica healthy again.
- **not ejected** — passive detection: after ``eject_after_failures`` consecutive request
  failures of the replica itself (connection error, timeout, HTTP 5xx to a request another
  replica served: see :mod:`gateway.routing.blame`) the replica is ejected for
  ``base x 2^(n-1)`` seconds (capped), n being its number of ejections in a row. When an ejection
  ends the replica is on probation: its next request failing ejects it again at once, for twice
  as long; its next request succeeding ends probation and resets n.

The caller decides whether an ejection may happen (never the last available replica of a
deployment): :meth:`ReplicaHealth.record_failure` takes that answer as ``may_eject``.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.routing.options import RoutingOptions


@dataclass(slots=True)
class ReplicaHealth:
    """The health state of one replica; times are on the router's monotonic clock."""

    healthy: bool = True
    check_failures: int = 0
    consecutive_failures: int = 0
    ejections: int = 0
    ejected_until: float = 0.0
    on_probation: bool = False

    def available(self, now: float) -> bool:
        """True when the replica may be sent a request now."""
        return self.healthy and now >= self.ejected_until

    def ejected(self, now: float) -> bool:
        return now < self.ejected_until

    def record_check(self, ok: bool, options: RoutingOptions) -> None:
        """Apply one active health check result."""
        if ok:
            self.healthy, self.check_failures = True, 0
            return
        self.check_failures += 1
        if self.check_failures >= options.unhealthy_after:
            self.healthy = False

    def record_success(self) -> None:
        """The replica answered a request (any status below 500)."""
        self.consecutive_failures = 0
        if self.on_probation:
            self.on_probation, self.ejections = False, 0

    def record_failure(self, now: float, options: RoutingOptions, *, may_eject: bool) -> bool:
        """Count a failed request; eject if due and allowed. Returns True when it ejected.

        A refused ejection (``may_eject`` False) leaves the failures counted, so the replica is
        ejected on its next failure once another replica of its deployment is back.
        """
        self.consecutive_failures += 1
        due = self.on_probation or self.consecutive_failures >= options.eject_after_failures
        if not due or not may_eject:
            return False
        self.ejections += 1
        # The exponent is bounded so a replica failing for days cannot overflow the float.
        duration = options.ejection_base_s * 2 ** min(self.ejections - 1, 32)
        self.ejected_until = now + min(duration, options.ejection_max_s)
        self.consecutive_failures = 0
        self.on_probation = True
        return True
