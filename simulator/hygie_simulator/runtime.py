"""The live state of one simulator instance: config, per-model engines, fault draws, stats."""

from __future__ import annotations

import random
import time
from collections import Counter
from typing import Any, Literal

from hygie_simulator.config import (
    FAULT_NAMES,
    FaultName,
    ServedModel,
    SimulatorConfig,
    merge_config,
)
from hygie_simulator.engine import ModelEngine
from hygie_simulator.errors import ModelNotFound, RouteNotFound
from hygie_simulator.metrics import ModelMetrics, render_metrics
from hygie_simulator.text import derive_seed

VLLM_VERSION = "0.32.0"


class SimulatorRuntime:
    """Holds what changes while the simulator serves: created once per app, never global."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.engines: dict[str, ModelEngine] = {}
        self.started = int(time.time())
        self.requests_by_path: Counter[str] = Counter()
        self.errors_by_status: Counter[int] = Counter()
        self.faults: Counter[str] = Counter()
        self.usage_prompt_tokens = 0
        self.usage_completion_tokens = 0
        self._fault_rng = random.Random(config.seed)
        self._apply(config)

    def _apply(self, config: SimulatorConfig) -> None:
        if config.seed != self.config.seed:
            self._fault_rng = random.Random(config.seed)
        self.config = config
        for served in config.models:
            engine = self.engines.get(served.name)
            if engine is None:
                self.engines[served.name] = ModelEngine(
                    served.name, config, ModelMetrics(served.max_model_len)
                )
            else:
                engine.config = config
        for name in list(self.engines):
            if config.model_named(name) is None:
                del self.engines[name]
        names = ",".join(m.name for m in config.models)
        tag = derive_seed(config.seed, names) & 0xFFFFFFFF
        self.system_fingerprint = f"vllm-{VLLM_VERSION}-{tag:08x}"

    def update(self, patch: dict[str, Any]) -> SimulatorConfig:
        """Merge `patch` into the live config (see `merge_config`); requests already admitted keep
        their timing, everything else sees the new values at once."""
        self._apply(merge_config(self.config, patch))
        return self.config

    def resolve(self, name: str | None, kind: Literal["chat", "embedding"] | None) -> ServedModel:
        """The served model a request names (the first of the right kind when it names none).
        Raises ModelNotFound, or RouteNotFound when the model's kind does not serve the route."""
        config = self.config
        if name is None:
            for served in config.models:
                if kind is None or served.kind == kind:
                    return served
            raise RouteNotFound()
        served_model = config.model_named(name)
        if served_model is None:
            raise ModelNotFound(name, [m.name for m in config.models])
        if kind is not None and served_model.kind != kind:
            raise RouteNotFound()
        return served_model

    def draw_fault(self, requested: FaultName | None) -> FaultName | None:
        """The fault for this request: `requested` if any, else a draw from the configured rates.
        One draw per inference request either way, so draws depend only on arrival order."""
        draw = self._fault_rng.random()
        fault = requested
        if fault is None:
            rates = self.config.faults
            cumulative = 0.0
            for name in FAULT_NAMES:
                cumulative += getattr(rates, name)
                if draw < cumulative:
                    fault = name
                    break
        if fault is not None:
            self.faults[fault] += 1
        return fault

    def report_usage(self, prompt_tokens: int, completion_tokens: int) -> None:
        """Remember a usage object sent to a client (for /sim/stats)."""
        self.usage_prompt_tokens += prompt_tokens
        self.usage_completion_tokens += completion_tokens

    def metrics_text(self) -> str:
        return render_metrics([engine.snapshot() for engine in self.engines.values()])

    def stats(self) -> dict[str, Any]:
        """Counters for tests and benchmarks (GET /sim/stats)."""
        models: dict[str, Any] = {}
        for name, engine in self.engines.items():
            snap = engine.snapshot()
            models[name] = {
                "running": snap.running,
                "waiting": snap.waiting,
                "kv_cache_usage_perc": snap.kv_cache_usage,
                "completed": engine.stats_completed,
                "aborted": engine.stats_aborted,
                "prompt_tokens": engine.metrics.prompt_tokens,
                "generation_tokens": engine.metrics.generation_tokens,
            }
        return {
            "requests": dict(self.requests_by_path),
            "errors": {str(status): count for status, count in self.errors_by_status.items()},
            "faults": dict(self.faults),
            "completed": sum(e.stats_completed for e in self.engines.values()),
            "aborted": sum(e.stats_aborted for e in self.engines.values()),
            "prompt_tokens": sum(e.metrics.prompt_tokens for e in self.engines.values()),
            "generation_tokens": sum(e.metrics.generation_tokens for e in self.engines.values()),
            "usage_reported": {
                "prompt_tokens": self.usage_prompt_tokens,
                "completion_tokens": self.usage_completion_tokens,
            },
            "models": models,
        }
