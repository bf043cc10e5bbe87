"""The sovereignty step of the pipeline: classify the request, apply the policy, pseudonymise.

The domain work is in ``policies/``; this module adapts it to the gateway's objects (the
catalog, the key owner) and turns a refusal into the gateway's error type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from billing.directory import Principal
from gateway.catalog import Catalog, ModelSpec
from gateway.errors import GatewayError, InvalidRequest
from policies.classify import (
    Classification,
    Detector,
    InvalidDataClassHeader,
    classify,
    parse_declared_class,
)
from policies.data_class import DataClass
from policies.decision import Decision, DecisionKind
from policies.pseudonymise import PseudonymisationError, Pseudonyms, pseudonymise
from policies.reload import PolicyHolder
from policies.request_texts import RequestTooDeep, iter_texts
from policies.rules import DeploymentView, PrincipalAttrs


class SovereigntyDenied(GatewayError):
    """The policy refuses to send this request anywhere; the message names the rule only."""

    status = 403
    type = "permission_error"
    code = "data_sovereignty_violation"
    error_class = "data_sovereignty_violation"

    def __init__(self, message: str, decision: Decision) -> None:
        super().__init__(message)
        self.decision = decision


@dataclass(frozen=True, slots=True)
class Verdict:
    """Where a request may go, with what body, and how to restore its answer."""

    decision: Decision
    model: ModelSpec
    body: dict[str, Any]
    pseudonyms: Pseudonyms | None
    classification: Classification = field(repr=False)

    def permits(self, deployment: str) -> bool:
        return self.decision.permits(deployment)


class SovereigntyGate:
    """Decides, for each request, the deployments it may reach (fail closed)."""

    def __init__(self, holder: PolicyHolder, detector: Detector, catalog: Catalog) -> None:
        self._holder = holder
        self._detector = detector
        self._catalog = catalog
        self._views = tuple(
            DeploymentView(name=d.name, model=m.name, hosting=d.hosting)
            for m in catalog.models
            for d in m.deployments
        )

    @property
    def holder(self) -> PolicyHolder:
        return self._holder

    def decide(
        self,
        endpoint: str,
        body: dict[str, Any],
        owner: Principal,
        model: ModelSpec,
        declared_header: str | None,
    ) -> Decision:
        """Classify ``body`` and apply the policy in force (no side effect; used by explain)."""
        decision, _ = self._decide(endpoint, body, owner, model, declared_header)
        return decision

    def admit(
        self,
        endpoint: str,
        body: dict[str, Any],
        owner: Principal,
        model: ModelSpec,
        declared_header: str | None,
    ) -> Verdict:
        """The verdict for a request to forward; raises :class:`SovereigntyDenied`."""
        decision, classification = self._decide(endpoint, body, owner, model, declared_header)
        if decision.kind is DecisionKind.DENY:
            raise SovereigntyDenied(decision.deny_message(), decision)
        target = model
        if decision.target_model and decision.target_model != model.name:
            rerouted = self._catalog.model(decision.target_model)
            if rerouted is None:  # the engine only names catalog models; be safe anyway
                raise SovereigntyDenied(decision.deny_message(), decision)
            target = rerouted
        if not decision.pseudonymise:
            return Verdict(decision, target, body, None, classification)
        try:
            result = pseudonymise(body, classification)
        except PseudonymisationError:
            raise SovereigntyDenied(
                "Request refused: it must be pseudonymised for this model, and part of it "
                f"cannot be (policy {decision.policy_version}, rule {decision.rule_name}).",
                decision,
            ) from None
        return Verdict(decision, target, result.body, result.pseudonyms, classification)

    def fallback_deployments(
        self, verdict: Verdict, owner: Principal, fallback: ModelSpec
    ) -> list[str]:
        """Deployments of ``fallback`` this request may reach unchanged (empty: none).

        A fallback takes the request only when the policy *allows* it there as it is: never
        after a pseudonymisation or reroute decided for the requested model.
        """
        if verdict.pseudonyms is not None:
            return []
        decision = self._holder.engine.allowed_deployments(
            verdict.classification,
            PrincipalAttrs(department=owner.department, use_case=owner.use_case, role=owner.role),
            fallback.name,
            self._views,
        )
        return list(decision.allowed) if decision.kind is DecisionKind.ALLOW else []

    def _decide(
        self,
        endpoint: str,
        body: dict[str, Any],
        owner: Principal,
        model: ModelSpec,
        declared_header: str | None,
    ) -> tuple[Decision, Classification]:
        engine = self._holder.engine
        try:
            declared = parse_declared_class(declared_header)
        except InvalidDataClassHeader as exc:
            raise InvalidRequest(str(exc), param="x-hygie-data-class") from None
        try:
            texts = iter_texts(endpoint, body)
        except RequestTooDeep as exc:
            raise InvalidRequest(f"The request body is too deeply nested: {exc}.") from None
        classification = classify(
            texts,
            self._detector,
            engine.classification_rules,
            declared=declared,
            default=_department_default(owner),
        )
        decision = engine.allowed_deployments(
            classification,
            PrincipalAttrs(department=owner.department, use_case=owner.use_case, role=owner.role),
            model.name,
            self._views,
            sovereign_alternative=model.sovereign_alternative,
        )
        return decision, classification


def _department_default(owner: Principal) -> DataClass | None:
    if owner.default_data_class is None:
        return None
    try:
        return DataClass.parse(owner.default_data_class)
    except ValueError:
        return DataClass.HEALTH  # an unreadable default must not lower the class
