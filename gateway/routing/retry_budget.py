"""A cap on retries, so a failing replica cannot multiply the load on the others.

Over a sliding window of ``retry_window_s`` seconds (one-second buckets), retries may not exceed
``retry_ratio`` x requests + ``retry_min_per_s`` x ``retry_window_s``: with the defaults, retries
add at most 20 % to the request rate, and a quiet gateway may still retry 3 times a second.
Every attempt after a request's first one (another replica or a fallback model) is a retry.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from gateway.routing.options import RoutingOptions


@dataclass(slots=True)
class _Bucket:
    second: int
    requests: int = 0
    retries: int = 0


class RetryBudget:
    """Counts requests and retries in the window; grants a retry only within the budget."""

    def __init__(self, options: RoutingOptions, clock: Callable[[], float]) -> None:
        self._ratio = options.retry_ratio
        self._floor = options.retry_min_per_s * options.retry_window_s
        self._window = math.ceil(options.retry_window_s)
        self._clock = clock
        self._buckets: deque[_Bucket] = deque()

    def record_request(self) -> None:
        """Count one incoming request (once, whatever its number of attempts)."""
        self._current().requests += 1

    def try_spend(self) -> bool:
        """Take one retry from the budget; False (and nothing taken) when it is spent."""
        bucket = self._current()
        requests = sum(b.requests for b in self._buckets)
        retries = sum(b.retries for b in self._buckets)
        if retries + 1 > self._ratio * requests + self._floor:
            return False
        bucket.retries += 1
        return True

    def retry_after_s(self) -> int:
        """Whole seconds until the oldest retries in the window stop counting (at least 1)."""
        now = self._clock()
        self._current()
        for bucket in self._buckets:
            if bucket.retries:
                return max(1, math.ceil(bucket.second + self._window - now))
        return 1

    def _current(self) -> _Bucket:
        second = math.floor(self._clock())
        while self._buckets and self._buckets[0].second <= second - self._window:
            self._buckets.popleft()
        if not self._buckets or self._buckets[-1].second != second:
            self._buckets.append(_Bucket(second))
        return self._buckets[-1]
