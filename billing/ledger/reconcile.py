"""Drift between live quota counters and the ledger, which is the source of truth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from billing.ledger.spend import spend_by_node
from billing.limits.repo import StoredLimits
from billing.periods import period_containing
from billing.quotas import QuotaStore


@dataclass(frozen=True, slots=True)
class Drift:
    """One node's committed spend as counted and as the ledger has it, for one period."""

    node_id: str
    label: str
    period: str
    ledger_micro_eur: int
    counter_micro_eur: int
    ledger_tokens: int
    counter_tokens: int

    @property
    def drift_micro_eur(self) -> int:
        return self.counter_micro_eur - self.ledger_micro_eur

    @property
    def drift_tokens(self) -> int:
        return self.counter_tokens - self.ledger_tokens

    @property
    def in_sync(self) -> bool:
        return not self.drift_micro_eur and not self.drift_tokens


async def reconcile(
    engine: AsyncEngine,
    store: QuotaStore,
    limits: dict[str, StoredLimits],
    tz: ZoneInfo,
    now: datetime,
) -> list[Drift]:
    """Compare every node with a calendar period; raises ``QuotaStoreUnavailable``."""
    drifts = []
    spend_cache: dict[str, dict[str, object]] = {}
    for node_id, stored in sorted(limits.items()):
        if stored.limits.period is None:
            continue
        period = period_containing(stored.limits.period, now, tz)
        if period.key not in spend_cache:
            spend_cache[period.key] = dict(await spend_by_node(engine, period))
        ledger = spend_cache[period.key].get(node_id)
        usage = await store.read(node_id, period, now)
        drifts.append(
            Drift(
                node_id=node_id,
                label=stored.label,
                period=period.key,
                ledger_micro_eur=getattr(ledger, "micro_eur", 0),
                counter_micro_eur=usage.committed.micro_eur,
                ledger_tokens=getattr(ledger, "tokens", 0),
                counter_tokens=usage.committed.tokens,
            )
        )
    return drifts
