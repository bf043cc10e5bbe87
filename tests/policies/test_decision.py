from __future__ import annotations

import json
from typing import Any

import pytest

from policies.classify import ClassificationRules, classify
from policies.decision import Decision, DecisionKind, SovereigntyViolation
from policies.hosting import Hosting
from policies.policy_file import LoadedPolicy, PolicyDocument
from policies.request_texts import iter_texts
from policies.rules import DeploymentView, PolicyEngine, PrincipalAttrs
from tests.policies.regex_test_detector import RegexTestDetector

IDENTIFIERS = ("Dupont", "1850575123456", "1234567", "jean.martin@example.org")
PROMPT = (
    "Mme Dupont, NIR 1850575123456, IPP 1234567, écrire à jean.martin@example.org : "
    "synthèse du séjour."
)


def make_engine(*rules: dict[str, Any]) -> PolicyEngine:
    document = PolicyDocument.model_validate({"name": "test", "rules": list(rules)})
    return PolicyEngine(LoadedPolicy(document=document, sha256="c0ffee" + "0" * 58, source="t"))


def decide(
    engine: PolicyEngine, hosting: dict[str, Any], alternative: str | None = None
) -> Decision:
    body = {"model": "gpt", "messages": [{"role": "user", "content": PROMPT}]}
    classification = classify(iter_texts("chat", body), RegexTestDetector(), ClassificationRules())
    deployments = [
        DeploymentView("azure-us", "gpt", Hosting.model_validate(hosting)),
        DeploymentView(
            "chu-gpu",
            "mistral",
            Hosting.model_validate({"class": "on_premise", "cleared_for": ["health"]}),
        ),
    ]
    return engine.allowed_deployments(
        classification,
        PrincipalAttrs(department="cardiologie"),
        "gpt",
        deployments,
        sovereign_alternative=alternative,
    )


NON_EU = {"class": "non_eu", "cleared_for": ["public", "internal"]}
RULES = (
    {
        "name": "health-sovereign",
        "match": {"data_class": "health", "deployment": {"hosting_classes": ["on_premise"]}},
        "action": "allow",
    },
    {"name": "health-reroute", "match": {"data_class": "health"}, "action": "reroute"},
)


def test_public_dict_holds_everything_explain_and_the_ledger_need() -> None:
    decision = decide(make_engine(*RULES), NON_EU, alternative="mistral")

    public = decision.to_public_dict()

    assert public == {
        "decision": "reroute",
        "policy_version": "c0ffee000000",
        "policy_sha256": "c0ffee" + "0" * 58,
        "model": "gpt",
        "target_model": "mistral",
        "reroute_to": "mistral",
        "pseudonymise": False,
        "data_class": "health",
        "effective_data_class": "health",
        "class_sources": ["detected"],
        "entities": {"EMAIL": 1, "IPP": 1, "NIR": 1, "PERSON": 1},
        "unscannable_inputs": 0,
        "rule": "health-reroute",
        "rule_index": 1,
        "allowed_deployments": ["chu-gpu"],
        "deployments": [
            {
                "deployment": "azure-us",
                "model": "gpt",
                "rule": "health-reroute",
                "rule_index": 1,
                "action": "reroute",
                "allowed": False,
                "reason": "reroute",
            },
            {
                "deployment": "chu-gpu",
                "model": "mistral",
                "rule": "health-sovereign",
                "rule_index": 0,
                "action": "allow",
                "allowed": True,
                "reason": "allow (cleared for health)",
            },
        ],
        "explanation": decision.explanation,
    }
    json.dumps(public)  # JSON-ready as is


@pytest.mark.parametrize(
    ("alternative", "expected_kind"), [("mistral", DecisionKind.REROUTE), (None, DecisionKind.DENY)]
)
def test_no_identifier_value_ever_appears_in_what_leaves_the_engine(
    alternative: str | None, expected_kind: DecisionKind
) -> None:
    decision = decide(make_engine(*RULES), NON_EU, alternative)

    assert decision.kind is expected_kind
    shown = [json.dumps(decision.to_public_dict()), decision.explanation, decision.deny_message()]
    shown.append(repr(decision))
    for text in shown:
        for identifier in IDENTIFIERS:
            assert identifier not in text


def test_the_explanation_reads_as_an_account_of_the_decision() -> None:
    decision = decide(make_engine(*RULES), NON_EU, alternative="mistral")

    assert decision.explanation.splitlines() == [
        "Data class health (set by: detected).",
        "Identifiers detected: EMAIL: 1, IPP: 1, NIR: 1, PERSON: 1.",
        "rule 'health-reroute' (rules[1]) reroutes model 'gpt' to its sovereign alternative "
        "'mistral', allowed on: chu-gpu.",
        "- azure-us (gpt): 'health-reroute': reroute.",
        "- chu-gpu (mistral): 'health-sovereign': allow (cleared for health).",
    ]


def test_a_denial_raises_a_403_that_names_the_rule() -> None:
    decision = decide(make_engine(*RULES), NON_EU)

    with pytest.raises(SovereigntyViolation) as caught:
        decision.raise_if_denied()

    error = caught.value
    assert (error.status_code, error.code) == (403, "data_sovereignty_violation")
    assert error.decision is decision
    assert str(error) == (
        "Request refused by the data sovereignty policy (health-reroute, policy c0ffee000000): "
        "data class health may not be sent to model 'gpt'."
    )
    assert "declares no sovereign alternative" in decision.explanation


def test_default_deny_is_named_as_such() -> None:
    decision = decide(
        make_engine({"name": "only-public", "match": {"data_class": "public"}, "action": "allow"}),
        NON_EU,
    )

    assert (decision.kind, decision.rule, decision.rule_name) == (
        DecisionKind.DENY,
        None,
        "default deny",
    )
    assert "Denied by default (no rule allows this request)." in decision.explanation
    assert decision.to_public_dict()["rule"] == "default deny"


def test_an_allowed_decision_permits_only_its_deployments() -> None:
    decision = decide(
        make_engine({"name": "all", "action": "allow"}),
        {"class": "non_eu", "cleared_for": ["health"]},
    )

    assert decision.kind is DecisionKind.ALLOW
    decision.raise_if_denied()
    assert decision.permits("azure-us")
    assert not decision.permits("chu-gpu")
