"""Settings of the simulated vLLM server: served models, timing, capacity, faults.

The configuration is immutable; `/sim/config` replaces it with a merged copy (`merge_config`) so a
request in flight always sees one consistent snapshot.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FaultName = Literal[
    "http_500",
    "http_503",
    "slow",
    "disconnect_mid_stream",
    "malformed_chunk",
    "drop_connection",
]
"""Fault kinds, usable as `sim_fault` in a request body or as a probability in `FaultRates`."""

FAULT_NAMES: tuple[FaultName, ...] = (
    "http_500",
    "http_503",
    "slow",
    "disconnect_mid_stream",
    "malformed_chunk",
    "drop_connection",
)


class ServedModel(BaseModel):
    """One model the simulator serves, as `vllm serve --served-model-name` would."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    kind: Literal["chat", "embedding"] = "chat"
    max_model_len: int = Field(default=8192, ge=16)
    embedding_dim: int = Field(default=1024, ge=8)
    root: str | None = None
    """Path reported as `root` by /v1/models; defaults to `/models/<name>`."""


class FaultRates(BaseModel):
    """Probability, per inference request, of each injected fault (drawn in arrival order)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    http_500: float = Field(default=0.0, ge=0.0, le=1.0)
    http_503: float = Field(default=0.0, ge=0.0, le=1.0)
    slow: float = Field(default=0.0, ge=0.0, le=1.0)
    disconnect_mid_stream: float = Field(default=0.0, ge=0.0, le=1.0)
    malformed_chunk: float = Field(default=0.0, ge=0.0, le=1.0)
    drop_connection: float = Field(default=0.0, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _total_at_most_one(self) -> FaultRates:
        if sum(getattr(self, name) for name in FAULT_NAMES) > 1.0 + 1e-9:
            raise ValueError("fault probabilities must add up to at most 1")
        return self


def _default_models() -> tuple[ServedModel, ...]:
    return (
        ServedModel(name="llama-3-8b", kind="chat", max_model_len=8192),
        ServedModel(name="bge-m3", kind="embedding", max_model_len=8192, embedding_dim=1024),
    )


class SimulatorConfig(BaseModel):
    """Everything that shapes the simulator's behaviour; outputs are a pure function of
    (`seed`, request body), fault draws a pure function of (`seed`, arrival order)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    models: tuple[ServedModel, ...] = Field(default_factory=_default_models, min_length=1)
    time_to_first_token_ms: float = Field(default=50.0, ge=0.0)
    """Delay between admission (a free slot) and the first token, before `speed_factor`."""
    prefill_ms_per_1k_tokens: float = Field(default=0.0, ge=0.0)
    """Extra time to first token per 1000 prompt tokens (longer prompts answer later)."""
    inter_token_ms: float = Field(default=10.0, ge=0.0)
    default_output_tokens: int = Field(default=64, ge=1)
    """Tokens generated before the simulated end-of-sequence when `max_tokens` allows it."""
    output_tokens_jitter: float = Field(default=0.0, ge=0.0, le=1.0)
    """Spread of the natural output length: uniform in default x (1 ± jitter), per request."""
    max_num_seqs: int = Field(default=256, ge=1)
    """Sequences running at once per model; further requests wait (num_requests_waiting)."""
    kv_cache_tokens: int = Field(default=131072, ge=16)
    """Simulated KV-cache capacity per model, in tokens."""
    speed_factor: float = Field(default=1.0, gt=0.0)
    """Divides the configured delays: 2.0 is twice as fast, 0.25 four times slower."""
    seed: int = 0
    faults: FaultRates = Field(default_factory=FaultRates)
    slow_delay_ms: float = Field(default=5000.0, ge=0.0)
    """Time to first token of a `slow` fault when the request gives no `sim_delay_ms`."""
    disconnect_after_chunks: int = Field(default=3, ge=0)
    """Events sent before a `disconnect_mid_stream` fault cuts the connection."""
    api_key: str | None = None
    """When set, /v1/* requires `Authorization: Bearer <api_key>` like `vllm serve --api-key`."""

    @model_validator(mode="after")
    def _unique_names(self) -> SimulatorConfig:
        names = [m.name for m in self.models]
        if len(set(names)) != len(names):
            raise ValueError("served model names must be unique")
        return self

    def model_named(self, name: str) -> ServedModel | None:
        """The served model called `name`, or None."""
        for model in self.models:
            if model.name == name:
                return model
        return None


def _deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in patch.items():
        current = merged.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            merged[key] = _deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def merge_config(config: SimulatorConfig, patch: dict[str, Any]) -> SimulatorConfig:
    """A new, validated config: `patch` merged into `config` (nested objects merged key by key,
    lists replaced). Raises pydantic.ValidationError when the result is invalid."""
    return SimulatorConfig.model_validate(_deep_merge(config.model_dump(), patch))
