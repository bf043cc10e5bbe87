"""The models and deployments a hospital declares in its YAML configuration.

Loading validates everything at start; an error names the exact field
(``models[0].deployments[1].replicas[0]: ...``) so an operator can fix the file quickly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError, model_validator

from billing.pricing.cost_config import CostConfig
from policies.hosting import Hosting
from policies.phi import DetectorConfig


class ConfigError(Exception):
    """The configuration file is missing, unreadable or invalid; the message says where."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Timeouts(Strict):
    """Upstream time limits, in seconds."""

    connect_s: float = Field(default=2.0, gt=0)
    first_byte_s: float = Field(default=120.0, gt=0)
    idle_s: float = Field(default=60.0, gt=0)


class GpuAllocation(Strict):
    pool: str
    count: float = Field(default=1, gt=0)


class DeploymentKind(StrEnum):
    VLLM = "vllm"
    LITELLM = "litellm"


# The provider named for a request that reached no deployment (the gateway answered it).
GATEWAY_PROVIDER = "hygie"
# litellm's provider prefixes whose OpenTelemetry GenAI name (``gen_ai.provider.name``'s
# well-known values) is spelt differently; other prefixes are their own name.
_SEMCONV_PROVIDERS = {
    "azure": "azure.ai.openai",
    "azure_ai": "azure.ai.inference",
    "bedrock": "aws.bedrock",
    "vertex_ai": "gcp.vertex_ai",
    "gemini": "gcp.gemini",
    "mistral": "mistral_ai",
    "watsonx": "ibm.watsonx.ai",
    "xai": "x_ai",
}


class Deployment(Strict):
    """One place a model is served: a set of equivalent replicas with one hosting regime."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    kind: DeploymentKind = DeploymentKind.VLLM
    replicas: tuple[HttpUrl, ...] = ()
    served_model_name: str | None = Field(
        default=None, description="Model name the server expects, when it differs from ours."
    )
    api_key_env: str | None = Field(
        default=None, description="Environment variable holding the upstream credential."
    )
    litellm_model: str | None = None
    api_base: HttpUrl | None = None
    timeouts: Timeouts = Timeouts()
    hosting: Hosting = Hosting()
    gpus: GpuAllocation | None = None
    allowed_params: tuple[str, ...] = Field(
        default=(),
        description="Server-side parameters (chat_template, priority, ...) clients may set here; "
        "others are dropped (see gateway/backends/server_params.py).",
    )
    media_hosts: tuple[str, ...] = Field(
        default=(),
        description="Hosts whose image/audio/video URLs the model server may fetch "
        "(data: URLs are always accepted).",
    )

    @model_validator(mode="after")
    def _kind_needs(self) -> Deployment:
        if self.kind is DeploymentKind.VLLM and not self.replicas:
            raise ValueError("a vllm deployment needs at least one replica URL")
        if self.kind is DeploymentKind.LITELLM and not self.litellm_model:
            raise ValueError("a litellm deployment needs litellm_model (e.g. azure/gpt-4o-mini)")
        return self

    @property
    def provider(self) -> str:
        """Who serves it, as OpenTelemetry's ``gen_ai.provider.name`` says: ``vllm``, or the
        provider litellm routes to (``azure/gpt-4o`` -> ``azure.ai.openai``)."""
        if self.kind is DeploymentKind.VLLM or not self.litellm_model:
            return DeploymentKind.VLLM.value
        prefix = self.litellm_model.split("/", 1)[0]
        return _SEMCONV_PROVIDERS.get(prefix, prefix)

    def replica_urls(self) -> list[str]:
        """Base URLs (ending in ``/v1``), without a trailing slash."""
        return [str(url).rstrip("/") for url in self.replicas]


class Approval(StrEnum):
    """A model's approval as the catalogue declares it; the approval workflow (admin API, CLI)
    overrides it. Approved and restricted models are routable; the others only for use cases
    in pilot when the administrator allows it, never once rejected."""

    APPROVED = "approved"
    PILOT = "pilot"
    RESTRICTED = "restricted"
    REQUESTED = "requested"
    REJECTED = "rejected"


class ModelCard(Strict):
    """What staff, the DPO and the patient page need to know of a model."""

    provenance: str = Field(default="", max_length=500, description="Who made it, from where.")
    version: str = Field(default="", max_length=200)
    licence: str = Field(default="", max_length=200)
    runs_at: str = Field(default="", max_length=500, description="Where it runs, in words.")
    intended_use: str = Field(default="", max_length=2000)
    limitations: str = Field(default="", max_length=2000)
    evaluation_notes: str = Field(default="", max_length=4000)
    evaluated_on: date | None = None
    approved_by: str | None = Field(default=None, max_length=200)
    approved_on: date | None = None


class RequestCaps(Strict):
    """How much one call may ask of a model; a call over a cap is refused (400, naming it).

    The defaults keep one request from monopolising a shared model server (``n`` in the
    thousands queues that many sequences) or the gateway's memory (thousands of inputs).
    """

    max_n: int = Field(default=16, ge=1, le=1024, description="Choices per prompt (n).")
    max_best_of: int = Field(default=16, ge=1, le=1024, description="Completions' best_of.")
    max_prompts: int = Field(
        default=256, ge=1, le=65536, description="Prompts per completions call."
    )
    max_embedding_inputs: int = Field(
        default=2048, ge=1, le=65536, description="Inputs per embeddings call."
    )


class ModelSpec(Strict):
    """A model as staff see it in ``/v1/models``, and where it is served."""

    name: str = Field(min_length=1)
    description: str = ""
    owner: str = "hygie"
    approval: Approval = Approval.APPROVED
    card: ModelCard | None = None
    documentation_url: str | None = None
    endpoints: tuple[Literal["chat", "completions", "embeddings"], ...] = ("chat", "completions")
    allowed_departments: tuple[str, ...] | None = Field(
        default=None, description="Departments that may use the model; all when absent."
    )
    sovereign_alternative: str | None = Field(
        default=None, description="Model to reroute to when the data may not go here."
    )
    fallbacks: tuple[str, ...] = Field(
        default=(),
        description="Models to try, in order, when no deployment of this one can answer "
        "(only those the caller may use and the policy allows).",
    )
    deployments: tuple[Deployment, ...] = Field(min_length=1)
    max_model_len: int | None = Field(
        default=None,
        ge=1,
        le=10**8,
        description="Context length (vLLM's --max-model-len): caps max_tokens, and is what a "
        "chat request without max_tokens may generate. Settings' default_max_model_len if absent.",
    )
    caps: RequestCaps = RequestCaps()

    def allows(self, department: str) -> bool:
        """True when members of ``department`` may use this model."""
        return self.allowed_departments is None or department in self.allowed_departments


class ModelPrice(Strict):
    """Placeholder prices, EUR per million tokens (the cost model refines them)."""

    input: Decimal = Decimal(0)
    cached_input: Decimal | None = None
    output: Decimal = Decimal(0)
    currency: Literal["EUR", "USD"] = "EUR"


class Catalog(Strict):
    models: tuple[ModelSpec, ...] = ()
    prices: dict[str, ModelPrice] = Field(default_factory=dict)
    cost: CostConfig | None = Field(
        default=None, description="Versioned prices, FX rates, GPU pools and transfer prices."
    )
    detector: DetectorConfig = Field(
        default_factory=DetectorConfig,
        description="PHI detection: the hospital's IPP/NDA formats and institutional allowlist.",
    )

    @model_validator(mode="after")
    def _unique_names(self) -> Catalog:
        seen: set[str] = set()
        for model in self.models:
            if model.name in seen:
                raise ValueError(f"model name {model.name!r} is declared twice")
            seen.add(model.name)
        for model in self.models:
            alternative = model.sovereign_alternative
            if alternative is not None and alternative not in seen:
                raise ValueError(
                    f"model {model.name!r}: sovereign_alternative {alternative!r} is not declared"
                )
            for fallback in model.fallbacks:
                if fallback not in seen or fallback == model.name:
                    raise ValueError(f"model {model.name!r}: fallback {fallback!r} is not declared")
        return self

    def model(self, name: str) -> ModelSpec | None:
        """The model called ``name``, or None."""
        for model in self.models:
            if model.name == name:
                return model
        return None

    def deployment(self, model: str, name: str) -> Deployment | None:
        """The deployment called ``name``: the one of the model called ``model``, else the first
        of another model (a request cut short during a fallback keeps the model it asked for)."""
        spec = self.model(model)
        ordered = ((spec,) if spec else ()) + self.models
        return next((d for m in ordered for d in m.deployments if d.name == name), None)


def _field_path(loc: Sequence[int | str]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def parse_catalog(data: Any, *, source: str = "configuration") -> Catalog:
    """Validate already-parsed YAML; raises :class:`ConfigError` naming each bad field."""
    try:
        return Catalog.model_validate(data if data is not None else {})
    except ValidationError as exc:
        lines = [f"{_field_path(err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise ConfigError(f"{source} is invalid:\n  " + "\n  ".join(lines)) from None


def load_catalog(path: Path) -> Catalog:
    """Read and validate the YAML file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    return parse_catalog(data, source=str(path))
