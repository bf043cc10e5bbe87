"""What to do with a request when the shared quota store is unreachable.

A pure function of the chain's fail policies, so the HTTP layer can call it after catching
:class:`~billing.quotas.store.QuotaStoreUnavailable` and count the outcome (``allowed`` and the
``waived`` limit kinds make good metric labels; no amounts, keys or tenant figures are involved).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from billing.quotas.limits import FailMode, Level, LimitKind, NodeLimits


@dataclass(frozen=True, slots=True)
class OutageDecision:
    """Allow or deny during an outage.

    When denied, ``level``/``node_id``/``reason`` name the first limit (in chain order) that fails
    closed. When allowed, ``waived`` lists the limit kinds that were skipped (fail open), one entry
    per node and kind, so the caller can count unenforced limits.
    """

    allowed: bool
    level: Level | None
    node_id: str | None
    reason: LimitKind | None
    waived: tuple[LimitKind, ...]


def decide_on_outage(chain: Sequence[NodeLimits]) -> OutageDecision:
    """Deny if a configured limit of the chain fails closed; else allow, listing what is waived."""
    waived: list[LimitKind] = []
    for node in chain:
        for kind in node.carried():
            if node.fail_policy.mode(kind) is FailMode.CLOSED:
                return OutageDecision(False, node.level, node.node_id, kind, ())
            waived.append(kind)
    return OutageDecision(True, None, None, None, tuple(waived))
