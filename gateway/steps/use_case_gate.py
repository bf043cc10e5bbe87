"""The use-case step: is the caller's use of AI registered and live, and may it use this model?

The register and the models' approvals are read from the database and refreshed every few
seconds (and at once after a change made through this process), so the check itself does no
I/O. The decision is :func:`policies.governance.admission.admit`'s.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from billing.directory import models as approvals
from billing.directory.use_cases import list_use_cases
from gateway.catalog import Approval, Catalog
from gateway.errors import UseCaseRefused
from gateway.settings import Settings
from gateway.supervisor import start_supervised
from policies.governance.admission import (
    Admission,
    AdmissionRules,
    ModelStanding,
    StatusMode,
    admit,
)
from policies.governance.register import ApprovalStatus, UseCaseRule

log = logging.getLogger("hygie.governance")

FLAG_HEADER = "x-hygie-use-case-flag"

_CATALOGUE_STANDING = {
    Approval.APPROVED: ModelStanding.APPROVED,
    Approval.RESTRICTED: ModelStanding.APPROVED,
    Approval.PILOT: ModelStanding.UNAPPROVED,
    Approval.REQUESTED: ModelStanding.UNAPPROVED,
    Approval.REJECTED: ModelStanding.REJECTED,
}
_STEP_STANDING = {
    ApprovalStatus.APPROVED: ModelStanding.APPROVED,
    ApprovalStatus.REQUESTED: ModelStanding.UNAPPROVED,
    ApprovalStatus.REJECTED: ModelStanding.REJECTED,
}


def admission_rules(settings: Settings) -> AdmissionRules:
    """The hospital's admission choices, from the settings."""
    return AdmissionRules(
        proposed=StatusMode(settings.use_case_proposed_mode),
        pilot=StatusMode(settings.use_case_pilot_mode),
        pilot_may_use_unapproved_models=settings.pilot_may_use_unapproved_models,
    )


class UseCaseGate:
    """Admits or refuses each request by its key's use case and the model asked for."""

    def __init__(
        self,
        engine: AsyncEngine,
        catalog: Catalog,
        rules: AdmissionRules,
        *,
        refresh_s: float,
        mapped: frozenset[str] = frozenset(),
    ) -> None:
        """``mapped``: the use cases the identity provider's claim mapping names."""
        self._engine = engine
        self._mapped = mapped
        self._unregistered: list[str] = []
        self._rules = rules
        self._refresh_s = refresh_s
        self._register: dict[str, UseCaseRule] = {}
        self._catalogue = {m.name: _CATALOGUE_STANDING[m.approval] for m in catalog.models}
        self._decided: dict[str, ModelStanding] = {}
        self._approvals = {m.name: m.approval.value for m in catalog.models}
        self._steps: dict[str, str] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Load the register, then keep it fresh in the background."""
        await self.refresh()
        self._task = start_supervised("use-case-register", self._refresh_forever)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def refresh(self) -> None:
        """Read the register and the approvals again (after a change, or periodically)."""
        register = {u.name: u.rule for u in await list_use_cases(self._engine)}
        steps = await approvals.latest_steps(self._engine)
        self._register = register
        self._check_mapping()
        self._decided = {name: _STEP_STANDING[step.status] for name, step in steps.items()}
        self._steps = {name: step.status.value for name, step in steps.items()}

    def _check_mapping(self) -> None:
        """Say loudly, once per change, which mapped use cases the register lacks: the tokens
        they would be given are refused (``use_case_not_registered``) until they are added."""
        missing = sorted(self._mapped - self._register.keys())
        if missing and missing != self._unregistered:
            log.error(
                "the identity provider's claim mapping names use cases that are not in the "
                "register: %s; tokens mapped to them are refused (use_case_not_registered) "
                "until they are registered",
                ", ".join(missing),
            )
        elif not missing and self._unregistered:
            log.warning("every use case named by the identity provider's mapping is registered")
        self._unregistered = missing

    def approval(self, model: str) -> str:
        """A model's approval as staff see it: its latest workflow step, else its card's."""
        return self._steps.get(model) or self._approvals.get(model, "requested")

    def standing(self, model: str) -> ModelStanding:
        """A model's effective approval: its latest workflow step, else its catalogue card."""
        decided = self._decided.get(model)
        if decided is not None:
            return decided
        return self._catalogue.get(model, ModelStanding.UNAPPROVED)

    def check(self, use_case: str | None, model: str) -> str | None:
        """The flag to record for an allowed request (None: nothing to flag); raises
        :class:`UseCaseRefused` (403) otherwise."""
        rule = self._register.get(use_case) if use_case else None
        admission: Admission = admit(use_case, rule, model, self.standing(model), self._rules)
        if admission.refusal is not None:
            raise UseCaseRefused(admission.refusal.message, code=admission.refusal.code)
        return admission.flag

    def allows_fallback(self, use_case: str | None, model: str) -> bool:
        """May a request of ``use_case`` fall back to ``model``? Not when the use case lists its
        models and ``model`` is not among them, nor when it could not be admitted for it; the
        reason goes to the governance log (no request content)."""
        rule = self._register.get(use_case) if use_case else None
        admission = admit(use_case, rule, model, self.standing(model), self._rules)
        if admission.refusal is None:
            return True
        log.info(
            "fallback to %r skipped for use case %r: %s",
            model,
            use_case,
            admission.refusal.code,
        )
        return False

    def standing_of(self, use_case: str | None) -> dict[str, Any]:
        """What ``/v1/me`` says of a caller's use case: whether it is registered, its lifecycle
        status, whether its requests are admitted now and whether they are flagged (pilot)."""
        rule = self._register.get(use_case) if use_case else None
        if rule is None:
            return {"registered": False, "status": None, "admitted": False, "flagged": None}
        mode = self._rules.mode_of(rule.status)
        return {
            "registered": True,
            "status": rule.status.value,
            "admitted": mode is not StatusMode.REFUSE,
            "flagged": rule.status.value if mode is StatusMode.ALLOW_AND_FLAG else None,
            "models": None if rule.allowed_models is None else list(rule.allowed_models),
        }

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_s)
            try:
                await self.refresh()
            except SQLAlchemyError as exc:
                # The last register read stays in force until the database answers again.
                log.warning("use-case register refresh postponed: %s", type(exc).__name__)
