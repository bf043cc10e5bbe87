"""What a department admin may set: never more than the organisation allowed their department.

The rule: the limits on a department's own node are the organisation's ceiling for that
department, and only an organisation admin raises them.

* On the department node, a department admin may lower a figure or add one that was absent,
  but neither raise nor remove one, nor change the window (a month's budget per day would be
  thirty times more) or let a limit fail open that failed closed.
* On a use case, user or key of the department, each figure they set may not exceed the
  department's same figure (a figure absent there is no ceiling). A figure left out is fine:
  the department's limit still applies to every request above it.

Once lowered by a department admin, a figure can only be raised again by an organisation admin:
the stored limits do not say who set them, so the current figure is the ceiling.
"""

from __future__ import annotations

from billing.quotas import FailMode, NodeLimits

# Field of NodeLimits -> the name an admin writes in a quota (PUT /admin/quotas).
FIGURES = {
    "budget_micro_eur": "budget_eur",
    "budget_tokens": "budget_tokens",
    "rpm": "rpm",
    "tpm": "tpm",
    "max_concurrent": "max_concurrent",
}


def over_department(proposed: NodeLimits, department: NodeLimits | None) -> list[str]:
    """The figures of ``proposed`` (a node inside the department) above the department's."""
    if department is None:
        return []
    over = []
    for field, name in FIGURES.items():
        cap, value = getattr(department, field), getattr(proposed, field)
        if cap is not None and value is not None and value > cap:
            over.append(name)
    return over


def raised(proposed: NodeLimits, current: NodeLimits | None) -> list[str]:
    """What ``proposed`` (new limits of the department node) loosens compared to ``current``."""
    if current is None:
        return []  # no limit yet: anything is a lowering
    loosened = []
    for field, name in FIGURES.items():
        cap, value = getattr(current, field), getattr(proposed, field)
        if cap is not None and (value is None or value > cap):
            loosened.append(name)
    has_budget = current.budget_micro_eur is not None or current.budget_tokens is not None
    same_window = (proposed.period, proposed.rolling_window_s) == (
        current.period,
        current.rolling_window_s,
    )
    if has_budget and not same_window:
        loosened.append("period" if current.period is not None else "rolling_window_s")
    now, then = proposed.fail_policy, current.fail_policy
    if now.budget_eur is FailMode.OPEN and then.budget_eur is FailMode.CLOSED:
        loosened.append("budget_fail_mode")
    if now.rpm is FailMode.OPEN and then.rpm is FailMode.CLOSED:
        loosened.append("rate_fail_mode")
    return loosened
