"""Soft-threshold alerts: one event per threshold, node and period, counted on committed spend."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from billing.quotas.limits import Level


class BudgetUnit(StrEnum):
    """Which budget of a node crossed a threshold."""

    EUR = "eur"
    TOKENS = "tokens"


@dataclass(frozen=True, slots=True)
class ThresholdCrossed:
    """Committed spend of ``node_id`` reached ``threshold_pct`` % of its budget in a period.

    ``period_key`` is the calendar period's key (``2026-03-29``, ``2026-W13``, ``2026-03``) or,
    for a rolling window, ``rolling-<N>s-<epoch>`` (alerts are deduplicated per aligned epoch of
    N seconds). ``spent`` and ``budget`` are in ``unit`` (micro-euros or tokens). When both budgets
    of a node cross in the same settle, the euro budget is reported; either way the store emits
    the event once per (node, threshold, period), atomically, across all processes.
    """

    node_id: str
    level: Level
    threshold_pct: int
    period_key: str
    unit: BudgetUnit
    spent: int
    budget: int


def reached(spent: int, budget: int, pct: int) -> bool:
    """True when ``spent`` is at least ``pct`` % of ``budget`` (exact integer arithmetic)."""
    return spent * 100 >= pct * budget
