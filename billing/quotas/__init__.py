"""Budgets, rate limits and concurrency limits for the organisation → key hierarchy.

The gateway reserves a request's worst-case :class:`Amount` at every node of its chain, settles
the actual amount when the response ends, and tops the hold up when a stream outgrows it. The
guarantees (atomicity, idempotency, expiry, the overshoot bound, which period is charged) are
written in :mod:`billing.quotas.store`; rate-limit semantics in :mod:`billing.quotas.gcra`.
"""

from billing.quotas.amounts import Amount
from billing.quotas.limits import FailMode, FailPolicy, Level, LimitKind, NodeLimits
from billing.quotas.memory_store import MemoryQuotaStore
from billing.quotas.outage import OutageDecision, decide_on_outage
from billing.quotas.rolling import RollingWindow
from billing.quotas.store import (
    NodeUsage,
    QuotaStore,
    QuotaStoreUnavailable,
    RateFigures,
    Refused,
    Reserved,
)
from billing.quotas.thresholds import BudgetUnit, ThresholdCrossed

__all__ = [
    "Amount",
    "BudgetUnit",
    "FailMode",
    "FailPolicy",
    "Level",
    "LimitKind",
    "MemoryQuotaStore",
    "NodeLimits",
    "NodeUsage",
    "OutageDecision",
    "QuotaStore",
    "QuotaStoreUnavailable",
    "RateFigures",
    "RedisQuotaStore",
    "Refused",
    "Reserved",
    "RollingWindow",
    "ThresholdCrossed",
    "decide_on_outage",
]


def __getattr__(name: str) -> object:
    # The Redis backend imports redis-py (a third of a second): only when it is asked for.
    if name == "RedisQuotaStore":
        from billing.quotas.redis_store import RedisQuotaStore

        return RedisQuotaStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
