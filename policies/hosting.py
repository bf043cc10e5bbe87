"""Where a deployment runs and which data it is cleared to receive (configuration values)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from policies.data_class import DataClass


class HostingClass(StrEnum):
    """Hosting regime of a deployment, from most to least sovereign."""

    ON_PREMISE = "on_premise"
    HDS_CERTIFIED = "hds_certified"
    EU_CLOUD = "eu_cloud"
    NON_EU = "non_eu"


class Retention(StrEnum):
    """What the provider keeps of prompts and completions."""

    ZERO = "zero"
    PROVIDER_DEFAULT = "provider_default"


class Hosting(BaseModel):
    """A deployment's hosting attributes, as declared in the configuration.

    The default is deliberately the least trusted one: a deployment that declares nothing is
    cleared for public data only.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    hosting_class: HostingClass = Field(default=HostingClass.NON_EU, alias="class")
    cleared_for: frozenset[DataClass] = frozenset({DataClass.PUBLIC})
    retention: Retention = Retention.PROVIDER_DEFAULT
    region: str = ""
    legal_basis: str = ""

    @field_validator("cleared_for", mode="before")
    @classmethod
    def _parse_classes(cls, value: object) -> object:
        if isinstance(value, list | tuple | set | frozenset):
            return frozenset(
                v if isinstance(v, DataClass) else DataClass.parse(str(v)) for v in value
            )
        return value

    def is_cleared_for(self, data_class: DataClass) -> bool:
        """True when this deployment may receive data of ``data_class``."""
        return data_class in self.cleared_for
