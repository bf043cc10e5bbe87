"""The shipped policy (policies/default_policy.yaml) against a French CHU's usual catalogue."""

from __future__ import annotations

import pytest

from policies.classify import Classification, ClassSource, classify
from policies.data_class import DataClass
from policies.decision import DecisionKind
from policies.hosting import Hosting
from policies.policy_file import DEFAULT_POLICY_PATH, parse_policy
from policies.request_texts import iter_texts
from policies.rules import DeploymentView, PolicyEngine, PrincipalAttrs
from tests.policies.regex_test_detector import RegexTestDetector

ALL = ["public", "internal", "personal", "health"]


def make_deployment(
    name: str, model: str, hosting_class: str, cleared: list[str], **extra: str
) -> DeploymentView:
    hosting = Hosting.model_validate({"class": hosting_class, "cleared_for": cleared, **extra})
    return DeploymentView(name=name, model=model, hosting=hosting)


CATALOGUE = [
    make_deployment("chu-mistral", "mistral-chu", "on_premise", ALL, retention="zero"),
    make_deployment("hds-llama", "llama-hds", "hds_certified", ALL, retention="zero"),
    make_deployment("ovh-mixtral", "mixtral-eu", "eu_cloud", ALL[:3], retention="zero"),
    make_deployment("azure-gpt4o", "gpt-4o", "non_eu", ALL[:2], retention="zero"),
    make_deployment("openai-gpt4o", "gpt-4o", "non_eu", ALL[:1]),
    make_deployment("sandbox", "sandbox", "on_premise", ALL[:1], retention="zero"),
]
SOVEREIGN_ALTERNATIVE = {"gpt-4o": "mistral-chu", "mixtral-eu": "mistral-chu"}


def make_engine(*, pseudonymisation_enabled: bool = False) -> PolicyEngine:
    raw = DEFAULT_POLICY_PATH.read_bytes()
    if pseudonymisation_enabled:
        assert raw.count(b"enabled: false") == 1
        raw = raw.replace(b"enabled: false", b"enabled: true")
    return PolicyEngine(parse_policy(raw, str(DEFAULT_POLICY_PATH)))


def of_class(data_class: DataClass, source: ClassSource = ClassSource.DETECTED) -> Classification:
    return Classification(contributions={ClassSource.MINIMUM: DataClass.PUBLIC, source: data_class})


H, P, INT, PUB = DataClass.HEALTH, DataClass.PERSONAL, DataClass.INTERNAL, DataClass.PUBLIC


@pytest.mark.parametrize(
    ("data_class", "model", "alternative", "kind", "target", "allowed", "rule"),
    [
        # Health data: only deployments cleared for health, on premise or HDS-certified.
        (
            H,
            "mistral-chu",
            True,
            "allow",
            "mistral-chu",
            ["chu-mistral"],
            "health-on-sovereign-hosting",
        ),
        (H, "llama-hds", True, "allow", "llama-hds", ["hds-llama"], "health-on-sovereign-hosting"),
        (
            H,
            "gpt-4o",
            True,
            "reroute",
            "mistral-chu",
            ["chu-mistral"],
            "health-reroute-to-sovereign-model",
        ),
        (
            H,
            "mixtral-eu",
            True,
            "reroute",
            "mistral-chu",
            ["chu-mistral"],
            "health-reroute-to-sovereign-model",
        ),
        (H, "gpt-4o", False, "deny", None, [], "health-reroute-to-sovereign-model"),
        (H, "sandbox", True, "deny", None, [], "health-reroute-to-sovereign-model"),
        # Personal data: the EU at least.
        (P, "mixtral-eu", True, "allow", "mixtral-eu", ["ovh-mixtral"], "personal-in-eu"),
        (P, "mistral-chu", True, "allow", "mistral-chu", ["chu-mistral"], "personal-in-eu"),
        (
            P,
            "gpt-4o",
            True,
            "reroute",
            "mistral-chu",
            ["chu-mistral"],
            "personal-reroute-to-sovereign-model",
        ),
        (P, "gpt-4o", False, "deny", None, [], "personal-reroute-to-sovereign-model"),
        # Public and internal data: any deployment cleared for them.
        (INT, "gpt-4o", True, "allow", "gpt-4o", ["azure-gpt4o"], "public-internal-on-approved"),
        (
            PUB,
            "gpt-4o",
            True,
            "allow",
            "gpt-4o",
            ["azure-gpt4o", "openai-gpt4o"],
            "public-internal-on-approved",
        ),
        (PUB, "sandbox", True, "allow", "sandbox", ["sandbox"], "public-internal-on-approved"),
        (INT, "sandbox", True, "deny", None, [], "default deny"),
    ],
)
def test_default_policy_scenarios(
    data_class: DataClass,
    model: str,
    alternative: bool,
    kind: str,
    target: str | None,
    allowed: list[str],
    rule: str,
) -> None:
    engine = make_engine()

    decision = engine.allowed_deployments(
        of_class(data_class),
        PrincipalAttrs(department="cardiologie", use_case="courrier", role="medecin"),
        model,
        CATALOGUE,
        sovereign_alternative=SOVEREIGN_ALTERNATIVE.get(model) if alternative else None,
    )

    assert (
        decision.kind.value,
        decision.target_model,
        list(decision.allowed),
        decision.rule_name,
    ) == (
        kind,
        target,
        allowed,
        rule,
    )


def test_pseudonymisation_is_off_until_the_dpo_enables_it() -> None:
    body = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "Synthèse pour Mme Dupont"}],
    }
    engine = make_engine()
    classification = classify(
        iter_texts("chat", body), RegexTestDetector(), engine.classification_rules
    )

    decision = engine.allowed_deployments(
        classification, PrincipalAttrs(), "gpt-4o", CATALOGUE, sovereign_alternative="mistral-chu"
    )

    assert (decision.kind, decision.target_model) == (DecisionKind.REROUTE, "mistral-chu")


def test_once_enabled_detected_identifiers_go_out_pseudonymised_to_zero_retention_only() -> None:
    engine = make_engine(pseudonymisation_enabled=True)

    decision = engine.allowed_deployments(
        of_class(H), PrincipalAttrs(), "gpt-4o", CATALOGUE, sovereign_alternative="mistral-chu"
    )

    assert decision.kind is DecisionKind.PSEUDONYMISE
    assert (decision.effective_class, decision.allowed) == (INT, ("azure-gpt4o",))
    assert decision.rule_name == "health-pseudonymised-external"


@pytest.mark.parametrize(
    "classification",
    [
        of_class(H, ClassSource.DECLARED),  # the application says "health"
        of_class(H, ClassSource.DEFAULT),  # the department's default is health
        Classification(  # an image: nothing could be scanned, so nothing could be replaced
            contributions={ClassSource.DETECTED: H, ClassSource.UNSCANNABLE: H}, unscannable_count=1
        ),
    ],
)
def test_even_enabled_pseudonymisation_does_not_lower_what_detection_did_not_find(
    classification: Classification,
) -> None:
    engine = make_engine(pseudonymisation_enabled=True)

    decision = engine.allowed_deployments(
        classification, PrincipalAttrs(), "gpt-4o", CATALOGUE, sovereign_alternative="mistral-chu"
    )

    assert (decision.kind, decision.target_model) == (DecisionKind.REROUTE, "mistral-chu")


def test_the_default_entity_mapping() -> None:
    engine = make_engine()
    rules = engine.classification_rules

    health = {t for t, c in rules.entities.items() if c is H}
    personal = {t for t, c in rules.entities.items() if c is P}
    assert health == {"PERSON", "BIRTHDATE", "NIR", "IPP", "NDA"}
    assert personal == {"ADDRESS", "PHONE", "EMAIL", "IBAN", "RPPS"}
    assert (rules.unscannable_input, rules.unknown_entity, rules.minimum) == (H, H, PUB)
