"""The sovereignty policy file: its schema, how it is read, and its version.

A policy is a YAML document validated by pydantic. Every model forbids unknown keys, because a
misspelt condition (``departement:``) would otherwise be dropped and the rule would match every
request. The version of a policy is the SHA-256 of the file's bytes, so the ledger can name
exactly which text decided a request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from policies.classify import ClassificationRules, DataClassName
from policies.data_class import DataClass
from policies.hosting import HostingClass, Retention

SHORT_HASH_LENGTH = 12
DEFAULT_POLICY_PATH = Path(__file__).with_name("default_policy.yaml")
"""The policy shipped with Hygie (a French university hospital's sensible default)."""


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file and the offending field."""


class Action(StrEnum):
    """What a rule does with the deployments it matches."""

    ALLOW = "allow"
    DENY = "deny"
    REROUTE = "reroute"
    PSEUDONYMISE = "pseudonymise"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


NameList = list[str]


def _names(value: list[str] | None) -> list[str] | None:
    # An empty list would be read by some as "any" and by others as "none": refuse both readings.
    if value is not None:
        if not value:
            raise ValueError("must list at least one name (omit the key to match any)")
        for name in value:
            if not name.strip():
                raise ValueError("names must not be empty")
    return value


class DataClassMatch(_Strict):
    """Data classes a rule applies to: ``health``, ``[personal, health]`` or ``{min:, max:}``."""

    any_of: list[DataClassName] | None = Field(default=None, min_length=1)
    min: DataClassName | None = None
    max: DataClassName | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: object) -> object:
        if isinstance(value, str):
            return {"any_of": [value]}
        if isinstance(value, list):
            return {"any_of": value}
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.any_of is not None and (self.min is not None or self.max is not None):
            raise ValueError("give either a list of classes or min/max, not both")
        if self.any_of is None and self.min is None and self.max is None:
            raise ValueError("give a list of classes or at least one of min/max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min.label}) is stricter than max ({self.max.label})")
        return self

    def classes(self) -> frozenset[DataClass]:
        """The classes this condition accepts."""
        if self.any_of is not None:
            return frozenset(self.any_of)
        low = self.min if self.min is not None else DataClass.PUBLIC
        high = self.max if self.max is not None else DataClass.HEALTH
        return frozenset(c for c in DataClass if low <= c <= high)


class DeploymentMatch(_Strict):
    """Conditions on the deployment a request would be sent to (all must hold)."""

    hosting_classes: list[HostingClass] | None = Field(default=None, min_length=1)
    cleared_for_data_class: bool | None = None
    """``true``: the deployment's ``cleared_for`` contains the request's class; ``false``: not."""
    cleared_for: list[DataClassName] | None = Field(default=None, min_length=1)
    """The deployment is cleared for every class listed."""
    retention: list[Retention] | None = Field(default=None, min_length=1)
    regions: NameList | None = None
    """Region names or shell-style patterns (``eu-*``, ``fr-*``)."""

    @field_validator("regions")
    @classmethod
    def _check_regions(cls, value: list[str] | None) -> list[str] | None:
        return _names(value)


class RequestMatch(_Strict):
    """Conditions on the request (all must hold; an omitted key matches anything).

    Names accept shell-style patterns (``cardio*``). A caller without a department, use case or
    role never matches a rule that lists departments, use cases or roles.
    """

    departments: NameList | None = None
    use_cases: NameList | None = None
    roles: NameList | None = None
    models: NameList | None = None
    data_class: DataClassMatch | None = None
    deployment: DeploymentMatch | None = None

    @field_validator("departments", "use_cases", "roles", "models")
    @classmethod
    def _check_names(cls, value: list[str] | None) -> list[str] | None:
        return _names(value)


class RuleSpec(_Strict):
    """One ordered rule of the policy."""

    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    description: str = ""
    enabled: bool = True
    match: RequestMatch = Field(default_factory=RequestMatch)
    action: Action
    pseudonymised_class: DataClassName | None = None
    """For ``pseudonymise`` only: the class the policy gives the request once its detected
    identifiers are replaced. It must be written out: no rule lowers a class by default."""

    @model_validator(mode="after")
    def _pseudonymised_class_only_when_pseudonymising(self) -> Self:
        if self.action is Action.PSEUDONYMISE and self.pseudonymised_class is None:
            raise ValueError("a pseudonymise rule must state pseudonymised_class")
        if self.action is not Action.PSEUDONYMISE and self.pseudonymised_class is not None:
            raise ValueError("pseudonymised_class is only meaningful with action: pseudonymise")
        return self


class PolicyDocument(_Strict):
    """The whole policy file."""

    schema_version: Literal[1] = 1
    name: str = Field(min_length=1)
    description: str = ""
    classification: ClassificationRules = Field(default_factory=ClassificationRules)
    rules: list[RuleSpec]

    @field_validator("rules")
    @classmethod
    def _unique_names(cls, rules: list[RuleSpec]) -> list[RuleSpec]:
        seen: set[str] = set()
        for rule in rules:
            if rule.name in seen:
                raise ValueError(f"rule name {rule.name!r} is used twice")
            seen.add(rule.name)
        return rules


@dataclass(frozen=True, slots=True)
class LoadedPolicy:
    """A validated policy and the identity of the bytes it was read from."""

    document: PolicyDocument
    sha256: str
    source: str

    @property
    def version(self) -> str:
        """The short form of the content hash, shown in explanations and the ledger."""
        return self.sha256[:SHORT_HASH_LENGTH]


def content_hash(raw: bytes) -> str:
    """The hex SHA-256 of a policy file's bytes: its version."""
    return hashlib.sha256(raw).hexdigest()


def parse_policy(raw: bytes, source: str = "<policy>") -> LoadedPolicy:
    """Validate the YAML bytes of a policy file.

    Raises :class:`PolicyError` naming ``source`` and, for a schema error, every offending field
    (``rules[2] 'health-external'.action: …``).
    """
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as error:
        raise PolicyError(f"policy file {source} is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"policy file {source} must be a YAML mapping at the top level")
    try:
        document = PolicyDocument.model_validate(data)
    except ValidationError as error:
        raise PolicyError(_describe(error, data, source)) from None
    return LoadedPolicy(document=document, sha256=content_hash(raw), source=source)


def load_policy(path: Path) -> LoadedPolicy:
    """Read and validate the policy file at ``path``; raises :class:`PolicyError`."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise PolicyError(f"cannot read policy file {path}: {error.strerror}") from None
    return parse_policy(raw, str(path))


def _describe(error: ValidationError, data: Mapping[str, Any], source: str) -> str:
    lines = [f"policy file {source} is invalid:"]
    for problem in error.errors(include_url=False, include_input=False):
        lines.append(f"  {_field_path(problem['loc'], data)}: {problem['msg']}")
    return "\n".join(lines)


def _field_path(loc: tuple[int | str, ...], data: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for index, element in enumerate(loc):
        if isinstance(element, int):
            parts.append(f"[{element}]")
            if index == 1 and loc[0] == "rules":
                parts.append(_rule_label(data, element))
        else:
            parts.append(f".{element}" if parts else element)
    return "".join(parts) or "(top level)"


def _rule_label(data: Mapping[str, Any], index: int) -> str:
    rules = data.get("rules")
    if isinstance(rules, list) and index < len(rules) and isinstance(rules[index], dict):
        name = rules[index].get("name")
        if isinstance(name, str):
            return f" {name!r}"
    return ""
