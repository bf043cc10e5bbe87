"""What one node of the hierarchy may spend and how fast, and what to do when the store is down.

The hierarchy is organisation → department → team (or use case) → user → key. A request is
counted against every node of its chain; each node carries only the limits that were configured
for it (``None`` means "no limit of that kind here").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from billing.periods import PeriodKind
from billing.quotas.amounts import MAX_UNITS


class Level(StrEnum):
    """Where a node sits in the hierarchy (a use case sits where a team would)."""

    ORGANISATION = "organisation"
    DEPARTMENT = "department"
    TEAM = "team"
    USE_CASE = "use_case"
    USER = "user"
    KEY = "key"


class LimitKind(StrEnum):
    """A kind of limit; also the ``reason`` of a refusal."""

    BUDGET_EUR = "budget_eur"
    BUDGET_TOKENS = "budget_tokens"
    RPM = "rpm"
    TPM = "tpm"
    CONCURRENCY = "concurrency"


class FailMode(StrEnum):
    """What a limit does when the shared store cannot be reached."""

    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class FailPolicy:
    """Fail mode per limit kind: hard budgets fail closed, rate limits fail open by default."""

    budget_eur: FailMode = FailMode.CLOSED
    budget_tokens: FailMode = FailMode.CLOSED
    rpm: FailMode = FailMode.OPEN
    tpm: FailMode = FailMode.OPEN
    concurrency: FailMode = FailMode.OPEN

    def mode(self, kind: LimitKind) -> FailMode:
        """The fail mode of ``kind``."""
        mode: FailMode = getattr(self, kind.value)
        return mode


DEFAULT_THRESHOLDS_PCT = (50, 80, 100)
MAX_NODE_ID_LENGTH = 200


@dataclass(frozen=True, slots=True)
class NodeLimits:
    """The limits of one node, validated on construction.

    A budget (micro-euros and/or tokens) needs exactly one window: a calendar ``period`` (computed
    in the organisation's time zone) or a ``rolling_window_s``. A window without a budget still
    counts committed spend, so :meth:`QuotaStore.read` can report it. ``rpm``/``tpm`` are
    per-minute rates, ``max_concurrent`` the number of reservations held at once.
    """

    node_id: str
    level: Level
    budget_micro_eur: int | None = None
    budget_tokens: int | None = None
    period: PeriodKind | None = None
    rolling_window_s: int | None = None
    thresholds_pct: tuple[int, ...] = DEFAULT_THRESHOLDS_PCT
    rpm: int | None = None
    tpm: int | None = None
    max_concurrent: int | None = None
    fail_policy: FailPolicy = FailPolicy()

    def __post_init__(self) -> None:
        _check_node_id(self.node_id)
        for name in ("budget_micro_eur", "budget_tokens"):
            _check_int(name, getattr(self, name), minimum=0)
        for name in ("rpm", "tpm", "max_concurrent", "rolling_window_s"):
            _check_int(name, getattr(self, name), minimum=1)
        if self.period is not None and self.rolling_window_s is not None:
            raise ValueError("a node has a calendar period or a rolling window, not both")
        has_budget = self.budget_micro_eur is not None or self.budget_tokens is not None
        if has_budget and not self.has_window:
            raise ValueError("a budget needs a period or a rolling window")
        if list(self.thresholds_pct) != sorted(set(self.thresholds_pct)):
            raise ValueError("thresholds_pct must be strictly increasing")
        for pct in self.thresholds_pct:
            _check_int("thresholds_pct", pct, minimum=1, maximum=1000)

    @property
    def has_window(self) -> bool:
        """True when committed spend is counted for this node."""
        return self.period is not None or self.rolling_window_s is not None

    def carried(self) -> tuple[LimitKind, ...]:
        """The limit kinds configured on this node."""
        present = {
            LimitKind.BUDGET_EUR: self.budget_micro_eur,
            LimitKind.BUDGET_TOKENS: self.budget_tokens,
            LimitKind.RPM: self.rpm,
            LimitKind.TPM: self.tpm,
            LimitKind.CONCURRENCY: self.max_concurrent,
        }
        return tuple(kind for kind, value in present.items() if value is not None)


def check_chain(chain: Sequence[NodeLimits]) -> None:
    """Raise ``ValueError`` unless ``chain`` is non-empty with distinct node ids."""
    if not chain:
        raise ValueError("a chain needs at least one node")
    ids = [node.node_id for node in chain]
    if len(set(ids)) != len(ids):
        raise ValueError("node ids in a chain must be distinct")


def _check_node_id(node_id: str) -> None:
    # Node ids become parts of Redis keys: braces would break the per-organisation hash tag.
    if not node_id or len(node_id) > MAX_NODE_ID_LENGTH:
        raise ValueError(f"node_id must be 1..{MAX_NODE_ID_LENGTH} characters")
    if any(ch in "{}" or ch.isspace() for ch in node_id):
        raise ValueError("node_id must not contain braces or whitespace")


def _check_int(name: str, value: object, *, minimum: int, maximum: int = MAX_UNITS) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int")
    if not minimum <= value <= maximum:
        raise ValueError(f"{name} must be between {minimum} and {maximum}")
