"""The admission rule of a request: is its use case live, and may it use this model?

Pure logic: the gateway's use-case step feeds it the register (cached) and the models'
effective approvals, and turns a refusal into an OpenAI-style 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from policies.governance.register import Lifecycle, UseCaseRule


class StatusMode(StrEnum):
    """What happens to the requests of a use case in a given lifecycle status."""

    ALLOW = "allow"
    ALLOW_AND_FLAG = "allow_and_flag"
    REFUSE = "refuse"


@dataclass(frozen=True, slots=True)
class AdmissionRules:
    """The hospital's choices; production is always allowed and retired always refused."""

    proposed: StatusMode = StatusMode.REFUSE
    pilot: StatusMode = StatusMode.ALLOW_AND_FLAG
    pilot_may_use_unapproved_models: bool = False

    def mode_of(self, status: Lifecycle) -> StatusMode:
        if status is Lifecycle.PRODUCTION:
            return StatusMode.ALLOW
        if status is Lifecycle.PILOT:
            return self.pilot
        if status is Lifecycle.PROPOSED:
            return self.proposed
        return StatusMode.REFUSE


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request is refused: ``code`` is the OpenAI error code the client sees."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Admission:
    """The outcome: refused (``refusal`` set), or allowed and perhaps flagged."""

    refusal: Refusal | None = None
    flag: str | None = None


class ModelStanding(StrEnum):
    """A model's effective approval, as admission sees it."""

    APPROVED = "approved"
    UNAPPROVED = "unapproved"  # requested, or approved for pilots only
    REJECTED = "rejected"


ALLOWED = Admission()


def admit(
    use_case_name: str | None,
    rule: UseCaseRule | None,
    model: str,
    standing: ModelStanding,
    rules: AdmissionRules,
) -> Admission:
    """Decide on one request for ``model`` made under ``use_case_name`` (``rule`` its record,
    None when it is not registered)."""
    if not use_case_name:
        return _refuse(
            "use_case_required",
            "This API key is not attached to a registered use of AI. Ask your administrator "
            "to attach it to one in the register.",
        )
    if rule is None:
        return _refuse(
            "use_case_not_registered",
            f"The use case {use_case_name!r} of this key is not in the register of AI uses.",
        )
    mode = rules.mode_of(rule.status)
    if mode is StatusMode.REFUSE:
        code = "use_case_retired" if rule.status is Lifecycle.RETIRED else "use_case_not_approved"
        return _refuse(
            code, f"The use case {rule.name!r} is {rule.status.value}: it may not use AI now."
        )
    if rule.allowed_models is not None and model not in rule.allowed_models:
        return _refuse(
            "model_not_allowed_for_use_case",
            f"The model {model!r} is not among the models registered for use case {rule.name!r}.",
        )
    flags = []
    if standing is not ModelStanding.APPROVED:
        pilot_exception = rule.status is Lifecycle.PILOT and rules.pilot_may_use_unapproved_models
        if standing is ModelStanding.REJECTED or not pilot_exception:
            return _refuse(
                "model_not_approved", f"The model {model!r} has not been approved for use."
            )
        flags.append("unapproved_model")
    if mode is StatusMode.ALLOW_AND_FLAG:
        flags.insert(0, rule.status.value)
    return Admission(flag=",".join(flags) or None)


def _refuse(code: str, message: str) -> Admission:
    return Admission(refusal=Refusal(code, message))
