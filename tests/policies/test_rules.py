from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from policies.classify import Classification, ClassSource
from policies.data_class import DataClass, strictest
from policies.decision import DecisionKind
from policies.hosting import Hosting, HostingClass, Retention
from policies.policy_file import Action, LoadedPolicy, PolicyDocument
from policies.rules import DeploymentView, PolicyEngine, PrincipalAttrs

HEALTH, PERSONAL, INTERNAL, PUBLIC = (
    DataClass.HEALTH,
    DataClass.PERSONAL,
    DataClass.INTERNAL,
    DataClass.PUBLIC,
)


def make_engine(*rules: dict[str, Any]) -> PolicyEngine:
    # Validated by the real schema; YAML parsing is left to test_policy_file (and is slow).
    document = PolicyDocument.model_validate({"name": "test", "rules": list(rules)})
    return PolicyEngine(LoadedPolicy(document=document, sha256="ab" * 32, source="test"))


def make_deployment(
    name: str,
    model: str = "m",
    *,
    hosting_class: str = "on_premise",
    cleared: tuple[str, ...] = ("public", "internal", "personal", "health"),
    retention: str = "zero",
    region: str = "fr-paris",
) -> DeploymentView:
    hosting = Hosting.model_validate(
        {
            "class": hosting_class,
            "cleared_for": list(cleared),
            "retention": retention,
            "region": region,
        }
    )
    return DeploymentView(name=name, model=model, hosting=hosting)


def make_classification(
    detected: DataClass | None = None,
    *,
    declared: DataClass | None = None,
    default: DataClass | None = None,
    unscannable: DataClass | None = None,
    entities: dict[str, int] | None = None,
) -> Classification:
    contributions = {ClassSource.MINIMUM: PUBLIC}
    for source, value in (
        (ClassSource.DETECTED, detected),
        (ClassSource.DECLARED, declared),
        (ClassSource.DEFAULT, default),
        (ClassSource.UNSCANNABLE, unscannable),
    ):
        if value is not None:
            contributions[source] = value
    return Classification(
        contributions=contributions,
        entity_counts=entities or ({"NIR": 1} if detected else {}),
        unscannable_count=1 if unscannable is not None else 0,
    )


ANYONE = PrincipalAttrs()
CARDIO = PrincipalAttrs(department="cardiologie", use_case="cr-hospitalisation", role="medecin")


def test_the_first_matching_rule_decides_and_nothing_matching_means_deny() -> None:
    engine = make_engine(
        {"name": "deny-cardio", "match": {"departments": ["cardio*"]}, "action": "deny"},
        {"name": "allow-all", "action": "allow"},
    )
    onprem = [make_deployment("onprem")]

    assert engine.allowed_deployments(make_classification(), CARDIO, "m", onprem).kind is (
        DecisionKind.DENY
    )
    decision = engine.allowed_deployments(make_classification(), ANYONE, "m", onprem)
    assert decision.kind is DecisionKind.ALLOW
    assert decision.rule_name == "allow-all"

    nothing = make_engine(
        {"name": "only-cardio", "match": {"departments": ["x"]}, "action": "allow"}
    )
    denied = nothing.allowed_deployments(make_classification(), ANYONE, "m", onprem)
    assert (denied.kind, denied.rule, denied.rule_name) == (DecisionKind.DENY, None, "default deny")
    assert denied.allowed == ()


@pytest.mark.parametrize(
    ("match", "principal", "model", "matches"),
    [
        ({"departments": ["cardiologie"]}, CARDIO, "m", True),
        ({"departments": ["cardio*"]}, CARDIO, "m", True),
        ({"departments": ["Cardiologie"]}, CARDIO, "m", False),
        ({"departments": ["cardio*"]}, ANYONE, "m", False),
        ({"use_cases": ["cr-*"], "roles": ["medecin", "interne"]}, CARDIO, "m", True),
        ({"roles": ["interne"]}, CARDIO, "m", False),
        ({"models": ["gpt-?o*"]}, ANYONE, "gpt-4o-mini", True),
        ({"models": ["mistral-*"]}, ANYONE, "gpt-4o", False),
        ({"data_class": {"min": "personal"}}, ANYONE, "m", True),
        ({"data_class": ["public", "internal"]}, ANYONE, "m", False),
    ],
)
def test_request_conditions(
    match: dict[str, Any], principal: PrincipalAttrs, model: str, matches: bool
) -> None:
    engine = make_engine({"name": "r", "match": match, "action": "allow"})
    classification = make_classification(HEALTH)

    decision = engine.allowed_deployments(
        classification, principal, model, [make_deployment("d", model)]
    )

    assert (decision.kind is DecisionKind.ALLOW) is matches


@pytest.mark.parametrize(
    ("condition", "allowed"),
    [
        ({"hosting_classes": ["on_premise", "hds_certified"]}, {"onprem", "hds"}),
        ({"cleared_for_data_class": True}, {"onprem", "hds"}),
        ({"cleared_for_data_class": False}, set()),  # matched, but the invariant removes them
        ({"cleared_for": ["personal", "health"]}, {"onprem", "hds"}),
        ({"retention": ["zero"]}, {"onprem"}),
        ({"regions": ["fr-*"]}, {"onprem", "hds"}),
        ({"regions": ["eu-west-3"]}, set()),
    ],
)
def test_deployment_conditions(condition: dict[str, Any], allowed: set[str]) -> None:
    engine = make_engine({"name": "r", "match": {"deployment": condition}, "action": "allow"})
    deployments = [
        make_deployment("onprem"),
        make_deployment("hds", hosting_class="hds_certified", retention="provider_default"),
        make_deployment("us", hosting_class="non_eu", cleared=("public",), region="us-east-1"),
    ]

    decision = engine.allowed_deployments(make_classification(HEALTH), ANYONE, "m", deployments)

    assert set(decision.allowed) == allowed


def test_an_allow_rule_never_opens_a_deployment_not_cleared_for_the_class() -> None:
    engine = make_engine({"name": "allow-everything", "action": "allow"})
    deployments = [make_deployment("us", hosting_class="non_eu", cleared=("public",))]

    decision = engine.allowed_deployments(make_classification(PERSONAL), ANYONE, "m", deployments)

    assert decision.kind is DecisionKind.DENY
    assert decision.rule_name == "allow-everything"
    (verdict,) = decision.verdicts
    assert verdict.reason == "allow refused: deployment not cleared for personal"


def test_only_deployments_of_the_requested_model_are_considered() -> None:
    engine = make_engine({"name": "all", "action": "allow"})
    deployments = [make_deployment("a1", "a"), make_deployment("b1", "b")]

    decision = engine.allowed_deployments(make_classification(), ANYONE, "a", deployments)

    assert decision.allowed == ("a1",)
    assert [v.deployment for v in decision.verdicts] == ["a1"]


def test_no_deployment_for_the_model_is_a_denial_that_says_so() -> None:
    engine = make_engine({"name": "all", "action": "allow"})

    decision = engine.allowed_deployments(make_classification(), ANYONE, "ghost", [])

    assert decision.kind is DecisionKind.DENY
    assert "No deployment serves model 'ghost'" in decision.explanation


def test_a_disabled_rule_is_ignored() -> None:
    engine = make_engine(
        {"name": "off", "enabled": False, "action": "deny"}, {"name": "on", "action": "allow"}
    )

    decision = engine.allowed_deployments(
        make_classification(), ANYONE, "m", [make_deployment("d")]
    )

    assert decision.rule_name == "on"


EXTERNAL_POLICY = (
    {
        "name": "health-sovereign",
        "match": {"data_class": "health", "deployment": {"hosting_classes": ["on_premise"]}},
        "action": "allow",
    },
    {
        "name": "health-pseudonymised",
        "match": {"data_class": "health", "deployment": {"hosting_classes": ["non_eu"]}},
        "action": "pseudonymise",
        "pseudonymised_class": "internal",
    },
    {"name": "health-reroute", "match": {"data_class": "health"}, "action": "reroute"},
    {"name": "rest", "match": {"data_class": {"max": "personal"}}, "action": "allow"},
)


def us(
    name: str = "us", model: str = "gpt", cleared: tuple[str, ...] = ("public", "internal")
) -> DeploymentView:
    return make_deployment(name, model, hosting_class="non_eu", cleared=cleared)


def test_allow_wins_over_pseudonymise_within_a_model() -> None:
    engine = make_engine(*EXTERNAL_POLICY)
    deployments = [make_deployment("onprem", "gpt"), us()]

    decision = engine.allowed_deployments(make_classification(HEALTH), ANYONE, "gpt", deployments)

    assert (decision.kind, decision.allowed) == (DecisionKind.ALLOW, ("onprem",))
    assert (
        decision.verdicts[1].reason
        == "pseudonymise possible, but a more permissive outcome applies"
    )
    assert not decision.verdicts[1].allowed


def test_pseudonymise_treats_the_request_as_its_class_after_replacement() -> None:
    engine = make_engine(*EXTERNAL_POLICY)

    decision = engine.allowed_deployments(make_classification(HEALTH), ANYONE, "gpt", [us()])

    assert decision.kind is DecisionKind.PSEUDONYMISE
    assert decision.pseudonymise
    assert (decision.data_class, decision.effective_class) == (HEALTH, INTERNAL)
    assert decision.allowed == ("us",)
    assert decision.rule_name == "health-pseudonymised"


@pytest.mark.parametrize(
    "classification",
    [
        make_classification(HEALTH, declared=HEALTH),  # the caller said "health"
        make_classification(HEALTH, default=HEALTH),  # the department's default is health
    ],
)
def test_pseudonymisation_cannot_lower_a_declared_or_default_class(
    classification: Classification,
) -> None:
    engine = make_engine(*EXTERNAL_POLICY)

    decision = engine.allowed_deployments(
        classification, ANYONE, "gpt", [us()], sovereign_alternative=None
    )

    assert decision.kind is DecisionKind.DENY
    assert decision.rule_name == "health-pseudonymised"
    assert "pseudonymise refused: deployment not cleared for health" in decision.explanation


def test_pseudonymise_never_applies_to_unscannable_input() -> None:
    engine = make_engine(*EXTERNAL_POLICY)
    classification = make_classification(HEALTH, unscannable=HEALTH)

    decision = engine.allowed_deployments(classification, ANYONE, "gpt", [us()])

    assert decision.kind is DecisionKind.DENY
    assert decision.rule_name == "health-reroute"


def test_one_arrival_class_for_a_pseudonymised_decision() -> None:
    engine = make_engine(
        {
            "name": "to-internal",
            "match": {"deployment": {"regions": ["a"]}},
            "action": "pseudonymise",
            "pseudonymised_class": "internal",
        },
        {"name": "to-personal", "action": "pseudonymise", "pseudonymised_class": "personal"},
    )
    deployments = [
        make_deployment("a", hosting_class="non_eu", cleared=("internal",), region="a"),
        make_deployment("b", hosting_class="non_eu", cleared=("internal", "personal"), region="b"),
    ]

    decision = engine.allowed_deployments(make_classification(HEALTH), ANYONE, "m", deployments)

    assert (decision.effective_class, decision.allowed) == (PERSONAL, ("b",))


def test_reroute_to_the_sovereign_alternative() -> None:
    engine = make_engine(*EXTERNAL_POLICY[:1], *EXTERNAL_POLICY[2:])
    deployments = [us(), make_deployment("mistral-onprem", "mistral")]

    decision = engine.allowed_deployments(
        make_classification(HEALTH), ANYONE, "gpt", deployments, sovereign_alternative="mistral"
    )

    assert decision.kind is DecisionKind.REROUTE
    assert (decision.model, decision.target_model) == ("gpt", "mistral")
    assert decision.allowed == ("mistral-onprem",)
    assert decision.rule_name == "health-reroute"
    assert decision.effective_class is HEALTH


def test_reroute_without_alternative_or_allowed_alternative_is_a_denial() -> None:
    engine = make_engine(*EXTERNAL_POLICY[:1], *EXTERNAL_POLICY[2:])
    blocked_alternative = [us(), us("other-us", "other")]

    none = engine.allowed_deployments(make_classification(HEALTH), ANYONE, "gpt", [us()])
    blocked = engine.allowed_deployments(
        make_classification(HEALTH),
        ANYONE,
        "gpt",
        blocked_alternative,
        sovereign_alternative="other",
    )

    assert (none.kind, none.rule_name) == (DecisionKind.DENY, "health-reroute")
    assert "declares no sovereign alternative" in none.explanation
    assert (blocked.kind, blocked.rule_name) == (DecisionKind.DENY, "health-reroute")
    assert "has no deployment allowed" in blocked.explanation


# --- The clearance invariant, against random policies and a router that retries and falls back --

MODELS = ("alpha", "beta", "gamma")
CLASSES = [c.label for c in DataClass]
HOSTING_CLASSES = [h.value for h in HostingClass]
RETENTIONS = [r.value for r in Retention]


def _subset(values: list[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(values), min_size=1, max_size=len(values), unique=True)


# Deployments are usually cleared "up to" a class (as in real configurations), sometimes oddly.
_cleared = st.one_of(
    st.integers(min_value=0, max_value=len(CLASSES)).map(lambda top: CLASSES[:top]),
    st.lists(st.sampled_from(CLASSES), unique=True),
)
_data_class_condition = st.one_of(
    st.sampled_from(CLASSES),
    _subset(CLASSES),
    st.sampled_from(CLASSES).map(lambda low: {"min": low}),
    st.sampled_from(CLASSES).map(lambda high: {"max": high}),
)


def _sometimes(**conditions: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A dictionary holding each condition one time in three: most rules have few conditions,
    as in real policies, so that random requests often get through to a deployment."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        chosen = {}
        for key, strategy in conditions.items():
            if draw(st.integers(min_value=0, max_value=2)) == 0:
                chosen[key] = draw(strategy)
        return chosen

    return build()


_deployment_condition = _sometimes(
    hosting_classes=_subset(HOSTING_CLASSES),
    cleared_for_data_class=st.booleans(),
    cleared_for=_subset(CLASSES),
    retention=_subset(RETENTIONS),
    regions=_subset(["eu-*", "fr-paris", "us-*"]),
)
_match = _sometimes(
    departments=_subset(["cardio", "urg*", "labo"]),
    models=_subset([*MODELS, "*a"]),
    data_class=_data_class_condition,
    deployment=_deployment_condition,
)


@st.composite
def _rule(draw: st.DrawFn, index: int) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "name": f"r{index}",
        "enabled": draw(st.sampled_from([True, True, True, False])),
        "match": draw(_match),
        "action": draw(
            st.sampled_from(["allow", "allow", "pseudonymise", "pseudonymise", "reroute", "deny"])
        ),
    }
    if rule["action"] == "pseudonymise":
        rule["pseudonymised_class"] = draw(st.sampled_from(CLASSES))
    return rule


@st.composite
def _policy(draw: st.DrawFn) -> PolicyEngine:
    size = draw(st.integers(min_value=1, max_value=8))
    rules = [draw(_rule(i)) for i in range(size)]
    if draw(st.booleans()):
        # A model-wide allow, as for an on-premise sovereign model: gives reroutes a target.
        favoured = {"name": "favoured", "match": {"models": [draw(st.sampled_from(MODELS))]}}
        rules.insert(draw(st.integers(0, size)), {**favoured, "action": "allow"})
    return make_engine(*rules)


@st.composite
def _deployments(draw: st.DrawFn) -> list[DeploymentView]:
    deployments = []
    for model in MODELS:
        for index in range(draw(st.integers(min_value=1, max_value=3))):
            deployments.append(
                make_deployment(
                    f"{model}-{index}",
                    model,
                    hosting_class=draw(st.sampled_from(HOSTING_CLASSES)),
                    cleared=tuple(draw(_cleared)),
                    retention=draw(st.sampled_from(RETENTIONS)),
                    region=draw(st.sampled_from(["eu-west-3", "fr-paris", "us-east-1", ""])),
                )
            )
    return deployments


_optional_class = st.none() | st.sampled_from(list(DataClass))
_rarely_class = st.one_of(st.none(), st.none(), st.none(), st.sampled_from(list(DataClass)))


@st.composite
def _classification(draw: st.DrawFn) -> Classification:
    return make_classification(
        draw(_optional_class),
        declared=draw(_rarely_class),
        default=draw(_rarely_class),
        unscannable=draw(_rarely_class),
    )


@pytest.mark.slow
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    engine=_policy(),
    deployments=_deployments(),
    classification=_classification(),
    department=st.sampled_from([None, "cardio", "urgences", "labo"]),
    alternatives=st.fixed_dictionaries({}, optional={m: st.sampled_from(MODELS) for m in MODELS}),
    fallbacks=st.lists(st.sampled_from(MODELS), max_size=2),
    data=st.data(),
)
def test_no_request_ever_reaches_a_deployment_not_cleared_for_its_class(
    engine: PolicyEngine,
    deployments: list[DeploymentView],
    classification: Classification,
    department: str | None,
    alternatives: dict[str, str],
    fallbacks: list[str],
    data: st.DataObject,
) -> None:
    """A router that load-balances, fails at random, retries and falls back to other models only
    ever picks from a decision's allowed set; every deployment it reaches is cleared for the
    request's class — or, for a pseudonymised request, for its class after pseudonymisation."""
    principal = PrincipalAttrs(department=department)
    requested = data.draw(st.sampled_from(MODELS))
    by_name = {d.name: d for d in deployments}
    pseudonymise_rules = {
        r.name: r.pseudonymised_class
        for r in engine.policy.document.rules
        if r.enabled and r.action is Action.PSEUDONYMISE
    }

    reached = []
    for model in [requested, *fallbacks]:
        decision = engine.allowed_deployments(
            classification,
            principal,
            model,
            deployments,
            sovereign_alternative=alternatives.get(model),
        )
        assert (decision.kind is DecisionKind.DENY) == (decision.allowed == ())
        if decision.kind is DecisionKind.DENY:
            continue  # fall back to the next model
        delivered = False
        for _attempt in range(3):  # first try and retries, each on a freshly picked deployment
            picked = by_name[data.draw(st.sampled_from(decision.allowed))]
            reached.append((picked, decision))
            if data.draw(st.booleans()):
                delivered = True
                break
        if delivered:
            break

    for deployment, decision in reached:
        event(f"reached a deployment: {decision.kind.value}, class {decision.data_class.label}")
        assert deployment.model == decision.target_model
        assert deployment.hosting.is_cleared_for(decision.effective_class)
        if decision.kind is not DecisionKind.PSEUDONYMISE:
            assert decision.effective_class == classification.data_class
            continue
        # Pseudonymised: only by an explicit, enabled pseudonymise rule, on scannable input, and
        # never below what detection alone could not account for.
        assert classification.unscannable_count == 0
        assert decision.rule is not None and decision.rule.name in pseudonymise_rules
        floor = classification.class_without_detection
        assert decision.effective_class >= floor
        assert decision.effective_class in {
            strictest(c, floor) for c in pseudonymise_rules.values() if c is not None
        }
        if classification.data_class is HEALTH and not deployment.hosting.is_cleared_for(HEALTH):
            assert classification.contributions[ClassSource.DETECTED] is HEALTH
