"""Evaluating the sovereignty policy: which deployments may receive a request.

Semantics (what a DPO reads in the policy file):

* Rules are tried **in file order, per deployment**: for each deployment of the requested model,
  the first enabled rule whose request conditions and deployment conditions all hold decides
  that deployment. No matching rule means *deny* (default deny).
* Across the model's deployments the most permissive outcome wins, in this order:
  ``allow`` > ``pseudonymise`` > ``reroute`` > ``deny``. A request is therefore sent raw when a
  deployment may take it raw, pseudonymised only when none may, and rerouted only when the
  requested model cannot be used at all.
* ``reroute`` sends the request to the model's declared ``sovereign_alternative``, evaluated with
  the same rules (one hop; only ``allow`` counts there). No alternative, or an alternative with no
  allowed deployment, means *deny* by the reroute rule.
* **Clearance invariant** (holds whatever the rules say): a deployment is allowed only when its
  ``cleared_for`` contains the class the request has *when it reaches it* — the request's class,
  or for ``pseudonymise`` the rule's ``pseudonymised_class`` raised to
  :attr:`Classification.class_without_detection` (pseudonymisation removes detected identifiers,
  not a declared class, a department default or unreadable input). A pseudonymise rule never
  matches a request with unscannable input, since that input cannot be pseudonymised.

Rules are compiled once, at load: names become sets or one regular expression, data-class
conditions become sets, so that evaluating a request is a few set look-ups per rule.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from policies.classify import Classification, ClassificationRules
from policies.data_class import DataClass, strictest
from policies.decision import Decision, DecisionKind, DeploymentVerdict, RuleRef
from policies.hosting import Hosting, HostingClass, Retention
from policies.policy_file import Action, LoadedPolicy, RuleSpec


@dataclass(frozen=True, slots=True)
class PrincipalAttrs:
    """The caller's attributes the policy can match on (``None``: the caller has none)."""

    department: str | None = None
    use_case: str | None = None
    role: str | None = None


@dataclass(frozen=True, slots=True)
class DeploymentView:
    """The part of a configured deployment the policy looks at."""

    name: str
    model: str
    hosting: Hosting


class _Names:
    """Matches a value against exact names and shell-style patterns (case-sensitive)."""

    __slots__ = ("_exact", "_pattern")

    def __init__(self, names: Iterable[str]) -> None:
        exact: set[str] = set()
        patterns: list[str] = []
        for name in names:
            if any(char in name for char in "*?["):
                patterns.append(fnmatch.translate(name))
            else:
                exact.add(name)
        self._exact = frozenset(exact)
        self._pattern = re.compile("|".join(patterns)) if patterns else None

    def __call__(self, value: str | None) -> bool:
        if value is None:
            return False
        if value in self._exact:
            return True
        return self._pattern is not None and self._pattern.match(value) is not None


def _names_or_none(names: list[str] | None) -> _Names | None:
    return _Names(names) if names is not None else None


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule with its conditions turned into sets and matchers (``None``: no condition)."""

    ref: RuleRef
    action: Action
    description: str
    pseudonymised_class: DataClass | None
    departments: _Names | None
    use_cases: _Names | None
    roles: _Names | None
    models: _Names | None
    classes: frozenset[DataClass] | None
    hosting_classes: frozenset[HostingClass] | None
    cleared_for_data_class: bool | None
    cleared_for: frozenset[DataClass] | None
    retention: frozenset[Retention] | None
    regions: _Names | None

    @classmethod
    def compile(cls, index: int, spec: RuleSpec) -> CompiledRule:
        """Precompute the matchers of ``spec``, the ``index``-th rule of its file."""
        match = spec.match
        deployment = match.deployment
        return cls(
            ref=RuleRef(index=index, name=spec.name),
            action=spec.action,
            description=spec.description,
            pseudonymised_class=spec.pseudonymised_class,
            departments=_names_or_none(match.departments),
            use_cases=_names_or_none(match.use_cases),
            roles=_names_or_none(match.roles),
            models=_names_or_none(match.models),
            classes=match.data_class.classes() if match.data_class else None,
            hosting_classes=(
                frozenset(deployment.hosting_classes)
                if deployment and deployment.hosting_classes
                else None
            ),
            cleared_for_data_class=deployment.cleared_for_data_class if deployment else None,
            cleared_for=(
                frozenset(deployment.cleared_for) if deployment and deployment.cleared_for else None
            ),
            retention=(
                frozenset(deployment.retention) if deployment and deployment.retention else None
            ),
            regions=_names_or_none(deployment.regions) if deployment else None,
        )

    def matches_request(self, data_class: DataClass, principal: PrincipalAttrs, model: str) -> bool:
        """True when the request-level conditions hold."""
        return (self.classes is None or data_class in self.classes) and self.matches_principal(
            principal, model
        )

    def matches_principal(self, principal: PrincipalAttrs, model: str) -> bool:
        """True when the caller and model conditions hold (data class aside)."""
        return (
            (self.models is None or self.models(model))
            and (self.departments is None or self.departments(principal.department))
            and (self.use_cases is None or self.use_cases(principal.use_case))
            and (self.roles is None or self.roles(principal.role))
        )

    def matches_deployment(self, hosting: Hosting, data_class: DataClass) -> bool:
        """True when the deployment-level conditions hold for a request of ``data_class``."""
        return (
            (self.hosting_classes is None or hosting.hosting_class in self.hosting_classes)
            and (
                self.cleared_for_data_class is None
                or hosting.is_cleared_for(data_class) is self.cleared_for_data_class
            )
            and (self.cleared_for is None or self.cleared_for <= hosting.cleared_for)
            and (self.retention is None or hosting.retention in self.retention)
            and (self.regions is None or self.regions(hosting.region))
        )


@dataclass(frozen=True, slots=True)
class _Verdict:
    deployment: DeploymentView
    rule: CompiledRule | None
    arrival_class: DataClass  # the class the request has when it reaches the deployment
    allowed: bool

    def public(self, chosen: bool) -> DeploymentVerdict:
        rule = self.rule
        if rule is None:
            reason = "no rule matches (default deny)"
        elif chosen:
            reason = f"{rule.action.value} (cleared for {self.arrival_class.label})"
        elif self.allowed:
            reason = f"{rule.action.value} possible, but a more permissive outcome applies"
        elif rule.action in (Action.ALLOW, Action.PSEUDONYMISE):
            reason = (
                f"{rule.action.value} refused: deployment not cleared for "
                f"{self.arrival_class.label}"
            )
        else:
            reason = rule.action.value
        return DeploymentVerdict(
            deployment=self.deployment.name,
            model=self.deployment.model,
            rule=rule.ref if rule else None,
            action=rule.action if rule else None,
            allowed=chosen,
            reason=reason,
        )


def _raised_to(verdict: _Verdict, arrival: DataClass) -> _Verdict:
    """A pseudonymise verdict re-checked for the decision's single arrival class."""
    rule = verdict.rule
    if rule is None or rule.action is not Action.PSEUDONYMISE or verdict.arrival_class == arrival:
        return verdict
    cleared = verdict.deployment.hosting.is_cleared_for(arrival)
    return _Verdict(verdict.deployment, rule, arrival, verdict.allowed and cleared)


class PolicyEngine:
    """A loaded policy, compiled, answering :meth:`allowed_deployments`. Immutable."""

    __slots__ = ("_by_class", "classification_rules", "policy")

    def __init__(self, policy: LoadedPolicy) -> None:
        self.policy = policy
        self.classification_rules: ClassificationRules = policy.document.classification
        rules = [
            CompiledRule.compile(index, spec)
            for index, spec in enumerate(policy.document.rules)
            if spec.enabled
        ]
        # Rules indexed by the data class they apply to: the commonest condition is checked once,
        # at load, instead of on every request.
        self._by_class = {
            data_class: tuple(r for r in rules if r.classes is None or data_class in r.classes)
            for data_class in DataClass
        }

    @property
    def version(self) -> str:
        """The short content hash of the policy file."""
        return self.policy.version

    def allowed_deployments(
        self,
        classification: Classification,
        principal: PrincipalAttrs,
        model: str,
        deployments: Sequence[DeploymentView],
        *,
        sovereign_alternative: str | None = None,
    ) -> Decision:
        """Decide where a request for ``model`` may go.

        ``deployments`` may list every deployment of the catalogue: only those serving ``model``
        (and, for a reroute, ``sovereign_alternative``) are considered. The result's ``allowed``
        set is the filter the router must apply to the first attempt and to every retry,
        failover and fallback; a fallback to another model needs its own decision.
        """
        data_class = classification.data_class
        rules = self._request_rules(classification, principal, model)
        verdicts = [
            self._verdict(d, rules, classification) for d in deployments if d.model == model
        ]

        allowed_raw = [
            v for v in verdicts if v.allowed and v.rule and v.rule.action is Action.ALLOW
        ]
        if allowed_raw:
            return self._decision(
                DecisionKind.ALLOW, classification, model, model, data_class, allowed_raw, verdicts
            )

        pseudonymised = [
            v for v in verdicts if v.allowed and v.rule and v.rule.action is Action.PSEUDONYMISE
        ]
        if pseudonymised:
            # One class for the whole decision (the ledger records one): the strictest any
            # allowed deployment's rule gives; deployments not cleared for it are dropped.
            arrival = strictest(*(v.arrival_class for v in pseudonymised))
            verdicts = [_raised_to(v, arrival) for v in verdicts]
            kept = [
                v for v in verdicts if v.allowed and v.rule and v.rule.action is Action.PSEUDONYMISE
            ]
            return self._decision(
                DecisionKind.PSEUDONYMISE, classification, model, model, arrival, kept, verdicts
            )

        reroutes = [v.rule for v in verdicts if v.rule and v.rule.action is Action.REROUTE]
        if reroutes:
            return self._reroute(
                classification,
                principal,
                model,
                deployments,
                sovereign_alternative,
                verdicts,
                min(reroutes, key=lambda r: r.ref.index),
            )

        matched = [v.rule for v in verdicts if v.rule]
        deciding = min(matched, key=lambda r: r.ref.index) if matched else None
        return self._denial(classification, model, deciding, verdicts)

    def _request_rules(
        self, classification: Classification, principal: PrincipalAttrs, model: str
    ) -> tuple[CompiledRule, ...]:
        unscannable = classification.unscannable_count > 0
        return tuple(
            rule
            for rule in self._by_class[classification.data_class]
            if rule.matches_principal(principal, model)
            and not (unscannable and rule.action is Action.PSEUDONYMISE)
        )

    @staticmethod
    def _verdict(
        deployment: DeploymentView,
        rules: Sequence[CompiledRule],
        classification: Classification,
    ) -> _Verdict:
        data_class = classification.data_class
        hosting = deployment.hosting
        for rule in rules:
            if not rule.matches_deployment(hosting, data_class):
                continue
            arrival = data_class
            if rule.action is Action.PSEUDONYMISE and rule.pseudonymised_class is not None:
                arrival = strictest(
                    rule.pseudonymised_class, classification.class_without_detection
                )
            permissive = rule.action in (Action.ALLOW, Action.PSEUDONYMISE)
            # The clearance invariant: checked here, after the rules, whatever they say.
            return _Verdict(
                deployment, rule, arrival, permissive and hosting.is_cleared_for(arrival)
            )
        return _Verdict(deployment, None, data_class, False)

    def _reroute(
        self,
        classification: Classification,
        principal: PrincipalAttrs,
        model: str,
        deployments: Sequence[DeploymentView],
        alternative: str | None,
        verdicts: list[_Verdict],
        reroute_rule: CompiledRule,
    ) -> Decision:
        if alternative is None or alternative == model:
            return self._denial(
                classification,
                model,
                reroute_rule,
                verdicts,
                f"Model {model!r} declares no sovereign alternative.",
            )
        rules = self._request_rules(classification, principal, alternative)
        alt_verdicts = [
            self._verdict(d, rules, classification) for d in deployments if d.model == alternative
        ]
        allowed = [
            v for v in alt_verdicts if v.allowed and v.rule and v.rule.action is Action.ALLOW
        ]
        every = verdicts + alt_verdicts
        if not allowed:
            return self._denial(
                classification,
                model,
                reroute_rule,
                every,
                f"Its sovereign alternative {alternative!r} has no deployment allowed to take it.",
            )
        return self._build(
            DecisionKind.REROUTE,
            classification,
            model,
            alternative,
            classification.data_class,
            allowed,
            every,
            reroute_rule.ref,
        )

    def _decision(
        self,
        kind: DecisionKind,
        classification: Classification,
        model: str,
        target: str,
        arrival: DataClass,
        allowed: list[_Verdict],
        verdicts: list[_Verdict],
    ) -> Decision:
        rule = min((v.rule.ref for v in allowed if v.rule), key=lambda ref: ref.index)
        return self._build(kind, classification, model, target, arrival, allowed, verdicts, rule)

    def _denial(
        self,
        classification: Classification,
        model: str,
        rule: CompiledRule | None,
        verdicts: list[_Verdict],
        reason: str = "",
    ) -> Decision:
        if not verdicts:
            reason = f"No deployment serves model {model!r}."
        return self._build(
            DecisionKind.DENY,
            classification,
            model,
            None,
            classification.data_class,
            [],
            verdicts,
            rule.ref if rule else None,
            reason,
        )

    def _build(
        self,
        kind: DecisionKind,
        classification: Classification,
        model: str,
        target: str | None,
        arrival: DataClass,
        allowed: list[_Verdict],
        verdicts: list[_Verdict],
        rule: RuleRef | None,
        deny_reason: str = "",
    ) -> Decision:
        # The clearance invariant once more, at the single exit: whatever path led here, no
        # deployment leaves this function allowed unless it is cleared for the arrival class.
        allowed = [v for v in allowed if v.deployment.hosting.is_cleared_for(arrival)]
        names = tuple(v.deployment.name for v in allowed)
        chosen = frozenset(id(v) for v in allowed)
        public = tuple(v.public(id(v) in chosen) for v in verdicts)
        sources = classification.sources
        return Decision(
            kind=kind,
            policy_version=self.policy.version,
            policy_sha256=self.policy.sha256,
            model=model,
            target_model=target,
            data_class=classification.data_class,
            effective_class=arrival,
            class_sources=sources,
            entity_counts=classification.entity_counts,
            unscannable_count=classification.unscannable_count,
            rule=rule,
            allowed=names,
            verdicts=public,
            deny_reason=deny_reason,
        )
