"""Per-minute rate limits (RPM, TPM) with the generic cell rate algorithm (GCRA).

Why GCRA rather than a sliding window: it keeps one number per node and limit (the theoretical
arrival time, ``tat``), so a check is O(1) in time and memory inside one Lua script; it computes an
exact ``retry_after``; it takes weighted costs (tokens) and refunds (a settled request that used
fewer tokens than reserved gives them back) by moving ``tat``; and it has no fixed-window edge
where 2x the limit passes in a second. With ``limit`` L per 60 s, each unit advances ``tat`` by
``60 s / L`` and a request is admitted when ``tat`` stays within 60 s of now. Guarantee: over any
interval of ``t`` seconds at most ``L + L * t / 60`` units are admitted (a burst of L, then L per
minute sustained).

The Redis scripts (``lua/_common.lua``) evaluate the very same expressions in the same order with
IEEE doubles, so both backends give identical figures. ``tat`` values are microseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WINDOW_US = 60_000_000
US_PER_S = 1_000_000
MAX_RETRY_AFTER_S = 60
# Absorbs float noise in "how many units are left" (e.g. 6.999999999 for 7).
_EPSILON = 1e-6


@dataclass(frozen=True, slots=True)
class GcraCheck:
    """Outcome of checking ``cost`` units: the ``tat`` to store if admitted, and the figures."""

    allowed: bool
    tat_us: float
    remaining: int
    reset_s: int
    retry_after_s: int


def gcra_check(tat_us: float, now_us: int, limit: int, cost: int) -> GcraCheck:
    """Check ``cost`` units against ``limit`` per minute; nothing is stored here."""
    new_tat = max(tat_us, now_us) + cost * WINDOW_US / limit
    ahead = new_tat - now_us
    if ahead <= WINDOW_US:
        remaining = math.floor(limit - ahead * limit / WINDOW_US + _EPSILON)
        reset_s = math.ceil(ahead / US_PER_S - _EPSILON)
        return GcraCheck(True, new_tat, max(remaining, 0), max(reset_s, 0), 0)
    if cost > limit:
        retry = MAX_RETRY_AFTER_S
    else:
        retry = math.ceil((ahead - WINDOW_US) / US_PER_S - _EPSILON)
    return GcraCheck(False, tat_us, 0, 0, min(max(retry, 1), MAX_RETRY_AFTER_S))


def gcra_adjust(tat_us: float, limit: int, units: int) -> float:
    """``tat`` after charging ``units`` (or refunding, when negative) without any check."""
    return tat_us + units * WINDOW_US / limit
