"""The operator's admin token is break-glass only: every use is logged and counted."""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter

log = logging.getLogger("hygie.admin")


class BreakGlass:
    """Records each use of the admin token (``hygie_admin_token_uses_total{route}``)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._uses = Counter(
            "hygie_admin_token_uses",
            "Requests authenticated with the break-glass admin token.",
            ["route"],
            registry=registry,
        )

    def used(self, method: str, route: str) -> None:
        """Log (warning) and count one use; ``route`` is the route template, not the path,
        so a client cannot grow the metric's label set."""
        log.warning("break-glass admin token used: %s %s", method, route)
        self._uses.labels(route=route).inc()
