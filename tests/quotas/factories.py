"""Factories with keyword defaults for the quota suite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from billing.periods import PeriodKind
from billing.quotas import Amount, Level, NodeLimits

# Tuesday 10 March 2026, 12:00 in Paris (UTC+1): far from any period boundary.
T0 = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """``T0`` plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)


def make_node(node_id: str = "org", level: Level = Level.ORGANISATION, **kwargs: Any) -> NodeLimits:
    """A node; a budget without a window defaults to a calendar month."""
    has_budget = (
        kwargs.get("budget_micro_eur") is not None or kwargs.get("budget_tokens") is not None
    )
    if has_budget and "rolling_window_s" not in kwargs:
        kwargs.setdefault("period", PeriodKind.MONTH)
    return NodeLimits(node_id, level, **kwargs)


def make_chain(
    *,
    key: dict[str, Any] | None = None,
    user: dict[str, Any] | None = None,
    team: dict[str, Any] | None = None,
    department: dict[str, Any] | None = None,
    organisation: dict[str, Any] | None = None,
    key_id: str = "key-1",
    user_id: str = "user-1",
) -> list[NodeLimits]:
    """key → user → team → department → organisation, each with the given NodeLimits keywords."""
    return [
        make_node(key_id, Level.KEY, **(key or {})),
        make_node(user_id, Level.USER, **(user or {})),
        make_node("team-radiology", Level.TEAM, **(team or {})),
        make_node("dept-imaging", Level.DEPARTMENT, **(department or {})),
        make_node("org", Level.ORGANISATION, **(organisation or {})),
    ]


def eur(micro_eur: int) -> Amount:
    """An amount in micro-euros only."""
    return Amount(micro_eur, 0)


def tokens(count: int) -> Amount:
    """An amount in tokens only."""
    return Amount(0, count)
