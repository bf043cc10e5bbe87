"""What the sovereignty policy decided for one request, and why, without a single identifier.

A :class:`Decision` is the only thing the web layer, the router, ``POST /v1/policy/explain`` and
the ledger need: the allowed deployments (the filter every attempt goes through), the policy
version, the data class and the entity *types and counts* — never their values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from policies.classify import ClassSource
from policies.data_class import DataClass
from policies.policy_file import Action


class DecisionKind(StrEnum):
    """The outcome for a request."""

    ALLOW = "allow"  # forward as is to one of ``allowed``
    DENY = "deny"  # refuse (HTTP 403, ``data_sovereignty_violation``)
    REROUTE = "reroute"  # forward as is to ``target_model``'s ``allowed`` deployments
    PSEUDONYMISE = "pseudonymise"  # replace detected identifiers, then forward to ``allowed``


@dataclass(frozen=True, slots=True)
class RuleRef:
    """A rule by position (0-based, in file order) and name."""

    index: int
    name: str

    def __str__(self) -> str:
        return f"rule {self.name!r} (rules[{self.index}])"


@dataclass(frozen=True, slots=True)
class DeploymentVerdict:
    """What the policy said about one deployment.

    ``action`` is ``None`` when no rule matched (default deny). ``allowed`` is true only when the
    rule's action lets the request through *and* the deployment is cleared for the class the
    request has when it reaches it (see ``Decision.effective_class``).
    """

    deployment: str
    model: str
    rule: RuleRef | None
    action: Action | None
    allowed: bool
    reason: str

    def to_public_dict(self) -> dict[str, object]:
        """A JSON-ready form for the explain endpoint and the ledger."""
        return {
            "deployment": self.deployment,
            "model": self.model,
            "rule": self.rule.name if self.rule else None,
            "rule_index": self.rule.index if self.rule else None,
            "action": self.action.value if self.action else "default_deny",
            "allowed": self.allowed,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's answer for one request.

    Guarantees (enforced by the engine, independently of the rules): every deployment in
    ``allowed`` serves ``target_model`` and is cleared for ``effective_class``;
    ``effective_class`` equals ``data_class`` unless ``kind`` is ``PSEUDONYMISE``; ``allowed`` is
    empty exactly when ``kind`` is ``DENY``.
    """

    kind: DecisionKind
    policy_version: str
    policy_sha256: str
    model: str
    target_model: str | None
    data_class: DataClass
    effective_class: DataClass
    class_sources: frozenset[ClassSource]
    entity_counts: Mapping[str, int]
    unscannable_count: int
    rule: RuleRef | None
    allowed: tuple[str, ...]
    verdicts: tuple[DeploymentVerdict, ...]
    deny_reason: str = ""
    """For a denial not explained by a rule alone (no alternative, no deployment…)."""

    @property
    def explanation(self) -> str:
        """A human-readable account of the decision, free of identifiers.

        Built on demand: the request path only needs ``allowed``; explain and audit read this.
        """
        return explain(self)

    @property
    def pseudonymise(self) -> bool:
        """True when detected identifiers must be replaced before the request is forwarded."""
        return self.kind is DecisionKind.PSEUDONYMISE

    @property
    def rule_name(self) -> str:
        """The deciding rule's name, or ``"default deny"`` when no rule decided."""
        return self.rule.name if self.rule else "default deny"

    def permits(self, deployment: str) -> bool:
        """True when ``deployment`` may receive this request (first try, retry or fallback)."""
        return deployment in self.allowed

    def deny_message(self) -> str:
        """The client-facing message of a refusal: the rule and the class, no identifier."""
        return (
            f"Request refused by the data sovereignty policy ({self.rule_name}, policy "
            f"{self.policy_version}): data class {self.data_class.label} may not be sent to "
            f"model {self.model!r}."
        )

    def raise_if_denied(self) -> None:
        """Raise :class:`SovereigntyViolation` when the request must not be forwarded."""
        if self.kind is DecisionKind.DENY:
            raise SovereigntyViolation(self)

    def to_public_dict(self) -> dict[str, object]:
        """Everything the explain endpoint and the ledger show; JSON-ready, identifier-free."""
        return {
            "decision": self.kind.value,
            "policy_version": self.policy_version,
            "policy_sha256": self.policy_sha256,
            "model": self.model,
            "target_model": self.target_model,
            "reroute_to": self.target_model if self.kind is DecisionKind.REROUTE else None,
            "pseudonymise": self.pseudonymise,
            "data_class": self.data_class.label,
            "effective_data_class": self.effective_class.label,
            "class_sources": sorted(source.value for source in self.class_sources),
            "entities": dict(self.entity_counts),
            "unscannable_inputs": self.unscannable_count,
            "rule": self.rule_name,
            "rule_index": self.rule.index if self.rule else None,
            "allowed_deployments": list(self.allowed),
            "deployments": [verdict.to_public_dict() for verdict in self.verdicts],
            "explanation": self.explanation,
        }


class SovereigntyViolation(Exception):
    """A request the policy refuses; rendered once by the web layer as HTTP 403."""

    status_code = 403
    error_type = "permission_error"
    code = "data_sovereignty_violation"

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.deny_message())
        self.decision = decision


def explain(decision: Decision) -> str:
    """A human-readable account of ``decision``, built only from names, classes and counts."""
    d = decision
    sources = ", ".join(sorted(source.value for source in d.class_sources))
    lines = [f"Data class {d.data_class.label} (set by: {sources})."]
    if d.entity_counts:
        found = ", ".join(f"{name}: {count}" for name, count in d.entity_counts.items())
        lines.append(f"Identifiers detected: {found}.")
    if d.unscannable_count:
        lines.append(f"{d.unscannable_count} input(s) could not be scanned (token ids, images…).")
    targets = ", ".join(d.allowed)
    if d.kind is DecisionKind.ALLOW:
        lines.append(f"Allowed by {d.rule} for model {d.model!r} on: {targets}.")
    elif d.kind is DecisionKind.PSEUDONYMISE:
        lines.append(
            f"Detected identifiers are replaced by placeholders before forwarding; {d.rule} "
            f"treats the pseudonymised request as {d.effective_class.label}. Allowed on: {targets}."
        )
    elif d.kind is DecisionKind.REROUTE:
        lines.append(
            f"{d.rule} reroutes model {d.model!r} to its sovereign alternative "
            f"{d.target_model!r}, allowed on: {targets}."
        )
    else:
        decided_by = f"by {d.rule}" if d.rule else "by default (no rule allows this request)"
        lines.append(f"Denied {decided_by}.{' ' + d.deny_reason if d.deny_reason else ''}")
    for verdict in d.verdicts:
        decided = f"{verdict.rule.name!r}" if verdict.rule else "no rule"
        lines.append(f"- {verdict.deployment} ({verdict.model}): {decided}: {verdict.reason}.")
    return "\n".join(lines)
