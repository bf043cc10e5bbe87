"""The vocabulary of the register of AI uses: lifecycle, DPIA, AI Act category, approvals."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Lifecycle(StrEnum):
    """Where a use case stands: proposed → pilot → production → retired."""

    PROPOSED = "proposed"
    PILOT = "pilot"
    PRODUCTION = "production"
    RETIRED = "retired"


class DpiaStatus(StrEnum):
    """The data protection impact assessment (GDPR art. 35)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    NOT_REQUIRED = "not_required"


class AiActCategory(StrEnum):
    """The EU AI Act's risk category, as assessed by the hospital."""

    UNASSESSED = "unassessed"
    MINIMAL = "minimal"
    LIMITED = "limited"
    HIGH_RISK = "high_risk"


class ApprovalStatus(StrEnum):
    """A model's approval: requested, then approved or rejected (with a reason)."""

    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"


# The data classes a use case may declare (policies.data_class labels).
DATA_CLASSES = ("public", "internal", "personal", "health")
# The classes that make a use case one the patient page must mention.
PATIENT_DATA_CLASSES = frozenset({"personal", "health"})


@dataclass(frozen=True, slots=True)
class UseCaseRule:
    """What admission needs to know of a use case: its status and the models it may use.

    ``allowed_models`` None means any approved model (a record imported at upgrade, not yet
    narrowed); an empty tuple means none.
    """

    name: str
    status: Lifecycle
    allowed_models: tuple[str, ...] | None
