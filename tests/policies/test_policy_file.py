from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from policies.data_class import DataClass
from policies.hosting import HostingClass, Retention
from policies.policy_file import (
    DEFAULT_POLICY_PATH,
    Action,
    PolicyError,
    load_policy,
    parse_policy,
)


def make_rule(**overrides: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {"name": "r1", "action": "allow"}
    rule.update(overrides)
    return rule


def policy_bytes(*rules: dict[str, Any], **top: Any) -> bytes:
    document: dict[str, Any] = {"name": "test", "rules": list(rules)}
    document.update(top)
    return yaml.safe_dump(document, sort_keys=False).encode()


def test_a_valid_file_is_read_with_its_content_hash_as_version() -> None:
    raw = policy_bytes(
        make_rule(
            name="health-onprem",
            match={
                "departments": ["cardio*"],
                "data_class": "health",
                "deployment": {
                    "hosting_classes": ["on_premise"],
                    "cleared_for_data_class": True,
                    "retention": ["zero"],
                    "regions": ["fr-*"],
                },
            },
        )
    )

    loaded = parse_policy(raw, "inline")

    assert loaded.sha256 == hashlib.sha256(raw).hexdigest()
    assert loaded.version == loaded.sha256[:12]
    (rule,) = loaded.document.rules
    assert rule.action is Action.ALLOW
    assert rule.match.data_class is not None
    assert rule.match.data_class.classes() == {DataClass.HEALTH}
    assert rule.match.deployment is not None
    assert rule.match.deployment.hosting_classes == [HostingClass.ON_PREMISE]
    assert rule.match.deployment.retention == [Retention.ZERO]


@pytest.mark.parametrize(
    ("data_class", "expected"),
    [
        ("personal", {DataClass.PERSONAL}),
        (["public", "health"], {DataClass.PUBLIC, DataClass.HEALTH}),
        ({"min": "personal"}, {DataClass.PERSONAL, DataClass.HEALTH}),
        ({"max": "internal"}, {DataClass.PUBLIC, DataClass.INTERNAL}),
        ({"min": "internal", "max": "personal"}, {DataClass.INTERNAL, DataClass.PERSONAL}),
    ],
)
def test_data_class_conditions_accept_one_a_list_or_a_range(
    data_class: object, expected: set[DataClass]
) -> None:
    loaded = parse_policy(policy_bytes(make_rule(match={"data_class": data_class})))

    condition = loaded.document.rules[0].match.data_class
    assert condition is not None
    assert condition.classes() == expected


def test_the_same_bytes_give_the_same_version_and_a_comment_changes_it() -> None:
    raw = policy_bytes(make_rule())

    assert parse_policy(raw).sha256 == parse_policy(raw).sha256
    assert parse_policy(raw + b"# reviewed by the DPO\n").sha256 != parse_policy(raw).sha256


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            policy_bytes(make_rule(name="health-x", match={"departement": ["cardio"]})),
            r"rules\[0\] 'health-x'\.match\.departement: Extra inputs are not permitted",
        ),
        (
            policy_bytes(make_rule(), make_rule(name="r2", action="permit")),
            r"rules\[1\] 'r2'\.action: Input should be 'allow', 'deny', 'reroute' or",
        ),
        (
            policy_bytes(make_rule(match={"data_class": {"min": "helth"}})),
            r"rules\[0\] 'r1'\.match\.data_class\.min: .*unknown data class 'helth'",
        ),
        (
            policy_bytes(make_rule(match={"data_class": {"min": "health", "max": "public"}})),
            r"rules\[0\] 'r1'\.match\.data_class: .*min \(health\) is stricter than max",
        ),
        (
            policy_bytes(make_rule(action="pseudonymise")),
            r"rules\[0\] 'r1': .*must state pseudonymised_class",
        ),
        (
            policy_bytes(make_rule(pseudonymised_class="internal")),
            r"rules\[0\] 'r1': .*only meaningful with action: pseudonymise",
        ),
        (
            policy_bytes(make_rule(), make_rule()),
            r"rules: .*rule name 'r1' is used twice",
        ),
        (
            policy_bytes(make_rule(match={"departments": []})),
            r"rules\[0\] 'r1'\.match\.departments: .*at least one name",
        ),
        (
            policy_bytes(make_rule(match={"deployment": {"hosting_classes": ["moon"]}})),
            r"rules\[0\] 'r1'\.match\.deployment\.hosting_classes\[0\]: Input should be",
        ),
        (
            policy_bytes(make_rule(), classification={"entities": {"NIR": "secret"}}),
            r"classification\.entities\.NIR: .*unknown data class 'secret'",
        ),
        (policy_bytes(make_rule(), schema_version=2), r"schema_version: Input should be 1"),
        (b"name: test\n", r"rules: Field required"),
        (b"- just\n- a list\n", r"must be a YAML mapping"),
        (b"name: [unclosed\n", r"is not valid YAML"),
    ],
)
def test_a_bad_file_is_refused_with_the_field_named(raw: bytes, message: str) -> None:
    with pytest.raises(PolicyError, match=message) as caught:
        parse_policy(raw, "policy.yaml")

    assert "policy.yaml" in str(caught.value)


def test_loading_from_disk_and_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_bytes(policy_bytes(make_rule()))

    assert load_policy(path).source == str(path)
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy(tmp_path / "missing.yaml")


def test_the_shipped_default_policy_is_valid() -> None:
    loaded = load_policy(DEFAULT_POLICY_PATH)

    assert loaded.document.name == "chu-default"
    assert [rule.action for rule in loaded.document.rules] == [
        Action.ALLOW,
        Action.PSEUDONYMISE,
        Action.REROUTE,
        Action.ALLOW,
        Action.REROUTE,
        Action.ALLOW,
    ]
