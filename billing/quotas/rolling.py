"""Rolling budget windows of N seconds, counted in fixed buckets.

Spend is added to the bucket ``floor(t / bucket_s)`` with ``bucket_s = ceil(N / 60)`` (at most ~60
buckets per window). The spend counted at instant ``t`` is the sum of the last
``ceil(N / bucket_s) + 1`` buckets, which covers **at least** the last N seconds and less than
``N + bucket_s`` seconds: the window errs on the side of counting too much, never too little.
"""

from __future__ import annotations

from dataclasses import dataclass

US_PER_S = 1_000_000
MAX_BUCKETS = 60


@dataclass(frozen=True, slots=True)
class RollingWindow:
    """A rolling window of ``seconds`` (at least 1)."""

    seconds: int

    def __post_init__(self) -> None:
        if isinstance(self.seconds, bool) or not isinstance(self.seconds, int):
            raise TypeError("seconds must be an int")
        if self.seconds < 1:
            raise ValueError("seconds must be at least 1")

    @property
    def bucket_s(self) -> int:
        """Width of one bucket in seconds."""
        return -(-self.seconds // MAX_BUCKETS)

    @property
    def bucket_count(self) -> int:
        """Buckets summed to cover at least ``seconds``."""
        return -(-self.seconds // self.bucket_s) + 1

    def bucket_of(self, now_us: int) -> int:
        """Index of the bucket that holds spend made at ``now_us``."""
        return now_us // (self.bucket_s * US_PER_S)

    def oldest_bucket(self, now_us: int) -> int:
        """Index of the oldest bucket still counted at ``now_us``."""
        return self.bucket_of(now_us) - self.bucket_count + 1

    def threshold_key(self, now_us: int) -> str:
        """Key under which threshold alerts are deduplicated: one aligned N-second epoch."""
        return f"rolling-{self.seconds}s-{now_us // (self.seconds * US_PER_S)}"
