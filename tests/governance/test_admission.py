"""The admission rule alone: status, allowed models, approvals, per-status modes."""

from __future__ import annotations

import pytest

from policies.governance.admission import AdmissionRules, ModelStanding, StatusMode, admit
from policies.governance.register import Lifecycle, UseCaseRule

RULES = AdmissionRules()
APPROVED = ModelStanding.APPROVED


def rule(status: Lifecycle, models: tuple[str, ...] | None = ("m",)) -> UseCaseRule:
    return UseCaseRule("cr", status, models)


@pytest.mark.parametrize(
    ("status", "code"),
    [(Lifecycle.RETIRED, "use_case_retired"), (Lifecycle.PROPOSED, "use_case_not_approved")],
)
def test_retired_and_proposed_use_cases_are_refused(status: Lifecycle, code: str) -> None:
    refusal = admit("cr", rule(status), "m", APPROVED, RULES).refusal
    assert refusal is not None and refusal.code == code


def test_production_is_allowed_without_flag() -> None:
    assert admit("cr", rule(Lifecycle.PRODUCTION), "m", APPROVED, RULES).refusal is None
    assert admit("cr", rule(Lifecycle.PRODUCTION), "m", APPROVED, RULES).flag is None


def test_a_model_outside_the_list_is_refused_and_none_means_any() -> None:
    refusal = admit("cr", rule(Lifecycle.PRODUCTION), "other", APPROVED, RULES).refusal
    assert refusal is not None and refusal.code == "model_not_allowed_for_use_case"
    assert admit("cr", rule(Lifecycle.PRODUCTION, None), "other", APPROVED, RULES).refusal is None
    empty = admit("cr", rule(Lifecycle.PRODUCTION, ()), "m", APPROVED, RULES).refusal
    assert empty is not None and empty.code == "model_not_allowed_for_use_case"


def test_pilot_is_allowed_and_flagged_or_refused_as_configured() -> None:
    assert admit("cr", rule(Lifecycle.PILOT), "m", APPROVED, RULES).flag == "pilot"
    strict = AdmissionRules(pilot=StatusMode.REFUSE)
    refusal = admit("cr", rule(Lifecycle.PILOT), "m", APPROVED, strict).refusal
    assert refusal is not None and refusal.code == "use_case_not_approved"


def test_unapproved_models_only_for_pilots_when_allowed_never_when_rejected() -> None:
    pending = ModelStanding.UNAPPROVED
    for status in (Lifecycle.PILOT, Lifecycle.PRODUCTION):
        refusal = admit("cr", rule(status), "m", pending, RULES).refusal
        assert refusal is not None and refusal.code == "model_not_approved"
    lenient = AdmissionRules(pilot_may_use_unapproved_models=True)
    assert admit("cr", rule(Lifecycle.PILOT), "m", pending, lenient).flag == (
        "pilot,unapproved_model"
    )
    assert admit("cr", rule(Lifecycle.PRODUCTION), "m", pending, lenient).refusal is not None
    rejected = admit("cr", rule(Lifecycle.PILOT), "m", ModelStanding.REJECTED, lenient)
    assert rejected.refusal is not None and rejected.refusal.code == "model_not_approved"


def test_a_key_without_or_with_an_unregistered_use_case_is_refused() -> None:
    for name, code in ((None, "use_case_required"), ("", "use_case_required")):
        refusal = admit(name, None, "m", APPROVED, RULES).refusal
        assert refusal is not None and refusal.code == code
    unknown = admit("ghost", None, "m", APPROVED, RULES).refusal
    assert unknown is not None and unknown.code == "use_case_not_registered"
