"""The outage decision is a pure function of the chain's fail policies."""

from __future__ import annotations

from billing.quotas import FailMode, FailPolicy, Level, LimitKind, OutageDecision, decide_on_outage
from tests.quotas.factories import make_chain


def test_hard_budgets_fail_closed_by_default() -> None:
    chain = make_chain(key={"rpm": 5}, department={"budget_tokens": 10})
    assert decide_on_outage(chain) == OutageDecision(
        False, Level.DEPARTMENT, "dept-imaging", LimitKind.BUDGET_TOKENS, ()
    )


def test_rate_and_concurrency_limits_fail_open_and_are_counted() -> None:
    chain = make_chain(key={"rpm": 5, "tpm": 50}, team={"max_concurrent": 3})
    decision = decide_on_outage(chain)
    assert decision == OutageDecision(
        True, None, None, None, (LimitKind.RPM, LimitKind.TPM, LimitKind.CONCURRENCY)
    )


def test_a_chain_without_limits_is_allowed_with_nothing_waived() -> None:
    assert decide_on_outage(make_chain()) == OutageDecision(True, None, None, None, ())


def test_fail_modes_are_chosen_per_limit() -> None:
    soft_budget = FailPolicy(budget_eur=FailMode.OPEN)
    strict_rpm = FailPolicy(rpm=FailMode.CLOSED)
    chain = make_chain(
        user={"budget_micro_eur": 100, "fail_policy": soft_budget},
        organisation={"rpm": 100, "fail_policy": strict_rpm},
    )
    decision = decide_on_outage(chain)
    assert (decision.allowed, decision.node_id, decision.reason) == (False, "org", LimitKind.RPM)
    assert decide_on_outage(chain[:2]).waived == (LimitKind.BUDGET_EUR,)
