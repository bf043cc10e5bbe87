"""vLLM's Prometheus metrics (`vllm:` families, labels `engine="0",model_name=...`), rendered in
the same order, types, help texts and buckets as a vLLM 0.32 server's /metrics."""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

CONTENT_TYPE = "text/plain; version=1.0.0; charset=utf-8"

FINISH_REASONS = ("stop", "length", "abort", "error", "repetition")

_LATENCY_BUCKETS = (
    0.3,
    0.5,
    0.8,
    1.0,
    1.5,
    2.0,
    2.5,
    5.0,
    10.0,
    15.0,
    20.0,
    30.0,
    40.0,
    50.0,
    60.0,
    120.0,
    240.0,
    480.0,
    960.0,
    1920.0,
    7680.0,
)
_TTFT_BUCKETS = (
    0.001,
    0.005,
    0.01,
    0.02,
    0.04,
    0.06,
    0.08,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
    20.0,
    40.0,
    80.0,
    160.0,
    640.0,
    2560.0,
)
_ITL_BUCKETS = (
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.15,
    0.2,
    0.3,
    0.4,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
    20.0,
    40.0,
    80.0,
)
_ITERATION_BUCKETS = (
    1.0,
    8.0,
    16.0,
    32.0,
    64.0,
    128.0,
    256.0,
    512.0,
    1024.0,
    2048.0,
    4096.0,
    8192.0,
    16384.0,
)
_N_BUCKETS = (1.0, 2.0, 5.0, 10.0, 20.0)
_PREEMPTION_BUCKETS = (1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 20.0)


def one_two_five_buckets(max_value: int) -> tuple[float, ...]:
    """1, 2, 5, 10, 20, 50, ... up to `max_value` (vLLM sizes token histograms by the context)."""
    out: list[float] = []
    exponent = 0
    while True:
        for mantissa in (1, 2, 5):
            value = mantissa * 10**exponent
            if value > max_value:
                return tuple(out)
            out.append(float(value))
        exponent += 1


class Histogram:
    """A Prometheus histogram: per-bucket counts (cumulated when rendered), sum and count."""

    __slots__ = ("bounds", "buckets", "count", "created", "total")

    def __init__(self, bounds: Sequence[float], created: float) -> None:
        self.bounds = tuple(bounds)
        self.buckets = [0] * (len(self.bounds) + 1)
        self.count = 0
        self.total = 0.0
        self.created = created

    def observe(self, value: float) -> None:
        self.buckets[bisect_left(self.bounds, value)] += 1
        self.count += 1
        self.total += value


@dataclass
class ModelMetrics:
    """Counters and histograms of one served model (one vLLM engine)."""

    max_model_len: int
    created: float = field(default_factory=time.time)
    prompt_tokens: int = 0
    generation_tokens: int = 0
    success: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FINISH_REASONS, 0))
    histograms: dict[str, Histogram] = field(default_factory=dict)

    def __post_init__(self) -> None:
        tokens = one_two_five_buckets(self.max_model_len)
        bounds: dict[str, Sequence[float]] = {
            "request_prompt_tokens": tokens,
            "request_generation_tokens": tokens,
            "iteration_tokens_total": _ITERATION_BUCKETS,
            "request_max_num_generation_tokens": tokens,
            "request_params_n": _N_BUCKETS,
            "request_params_max_tokens": tokens,
            "time_to_first_token_seconds": _TTFT_BUCKETS,
            "inter_token_latency_seconds": _ITL_BUCKETS,
            "request_time_per_output_token_seconds": _ITL_BUCKETS,
            "e2e_request_latency_seconds": _LATENCY_BUCKETS,
            "request_queue_time_seconds": _LATENCY_BUCKETS,
            "request_inference_time_seconds": _LATENCY_BUCKETS,
            "request_prefill_time_seconds": _LATENCY_BUCKETS,
            "request_decode_time_seconds": _LATENCY_BUCKETS,
            "request_num_preemptions": _PREEMPTION_BUCKETS,
            "request_prefill_kv_computed_tokens": tokens,
        }
        self.histograms = {name: Histogram(b, self.created) for name, b in bounds.items()}

    def observe(self, name: str, value: float) -> None:
        self.histograms[name].observe(value)


@dataclass(frozen=True)
class ModelSnapshot:
    """What /metrics shows for one model: its counters plus the live gauges."""

    name: str
    metrics: ModelMetrics
    running: int
    waiting: int
    kv_cache_usage: float
    kv_cache_tokens: int


_HELP: Final[Mapping[str, str]] = {
    "estimated_flops_per_gpu": "Estimated number of floating point operations per GPU (for Model "
    "Flops Utilization calculations).",
    "estimated_read_bytes_per_gpu": "Estimated number of bytes read from memory per GPU (for Model "
    "Flops Utilization calculations).",
    "estimated_write_bytes_per_gpu": "Estimated number of bytes written to memory per GPU (for "
    "Model Flops Utilization calculations).",
    "num_requests_running": "Number of requests in model execution batches.",
    "num_requests_waiting": "Number of requests waiting to be processed.",
    "num_requests_waiting_by_reason": "Number of waiting requests by reason. Reason labels: "
    "'capacity' = waiting for scheduling capacity; 'deferred' = deferred by transient constraints "
    "(LoRA budget, KV transfer, blocked status). Sum of all reasons equals "
    "vllm:num_requests_waiting.",
    "engine_sleep_state": "Engine sleep state; awake = 0 means engine is sleeping; awake = 1 means "
    "engine is awake; weights_offloaded = 1 means sleep level 1; discard_all = 1 means sleep "
    "level 2.",
    "kv_cache_usage_perc": "KV-cache usage. 1 means 100 percent usage.",
    "prefix_cache_queries": "Prefix cache queries, in terms of number of queried tokens.",
    "prefix_cache_hits": "Prefix cache hits, in terms of number of cached tokens.",
    "external_prefix_cache_queries": "External prefix cache queries from KV connector "
    "cross-instance cache sharing, in terms of number of queried tokens.",
    "external_prefix_cache_hits": "External prefix cache hits from KV connector cross-instance "
    "cache sharing, in terms of number of cached tokens.",
    "mm_cache_queries": "Multi-modal cache queries, in terms of number of queried items.",
    "mm_cache_hits": "Multi-modal cache hits, in terms of number of cached items.",
    "num_preemptions": "Cumulative number of preemption from the engine.",
    "prompt_tokens": "Number of prefill tokens processed.",
    "prompt_tokens_by_source": "Number of prompt tokens by source.",
    "prompt_tokens_cached": "Number of cached prompt tokens (local + external).",
    "prompt_tokens_cached_by_source": "Prefix-cache hit tokens by the cache tier that supplied "
    "them: device (local HBM), host (offloaded to DRAM), disk, p2p (transferred from another vLLM "
    "instance) or external_unspecified. Counted at admission; sums to vllm:prefix_cache_hits + "
    "vllm:external_prefix_cache_hits.",
    "generation_tokens": "Number of generation tokens processed.",
    "request_success": "Count of successfully processed requests.",
    "admission_rejections": "Number of admission attempts rejected by a queue limit, by reason.",
    "request_prompt_tokens": "Number of prefill tokens processed.",
    "request_generation_tokens": "Number of generation tokens processed.",
    "iteration_tokens_total": "Histogram of number of tokens per engine_step.",
    "request_max_num_generation_tokens": "Histogram of maximum number of requested generation "
    "tokens.",
    "request_params_n": "Histogram of the n request parameter.",
    "request_params_max_tokens": "Histogram of the max_tokens request parameter.",
    "time_to_first_token_seconds": "Histogram of time to first token in seconds.",
    "inter_token_latency_seconds": "Histogram of inter-token latency in seconds.",
    "request_time_per_output_token_seconds": "Histogram of time_per_output_token_seconds per "
    "request.",
    "e2e_request_latency_seconds": "Histogram of e2e request latency in seconds.",
    "request_queue_time_seconds": "Histogram of time spent in WAITING phase for request.",
    "request_inference_time_seconds": "Histogram of time spent in RUNNING phase for request.",
    "request_prefill_time_seconds": "Histogram of time spent in PREFILL phase for request.",
    "request_decode_time_seconds": "Histogram of time spent in DECODE phase for request.",
    "request_num_preemptions": "Histogram of the number of times a request was preempted.",
    "request_prefill_kv_computed_tokens": "Histogram of new KV tokens computed during prefill "
    "(excluding cached tokens).",
    "cache_config_info": "Information of the LLMEngine CacheConfig",
}


def go_float(value: float) -> str:
    """A sample value as Prometheus' text format writes it (Go-style exponents past 1e6)."""
    value = float(value)
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    text = repr(value)
    dot = text.find(".")
    if value > 0 and dot > 6:
        mantissa = f"{text[0]}.{text[1:dot]}{text[dot + 1 :]}".rstrip("0.")
        return f"{mantissa}e+0{dot - 1}"
    return text


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(pairs: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{_escape(pairs[k])}"' for k in sorted(pairs)) + "}"


Sample = tuple[dict[str, str], float]


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_key: str, samples: Iterable[Sample]) -> None:
        self.lines.append(f"# HELP vllm:{name} {_HELP[help_key]}")
        self.lines.append(f"# TYPE vllm:{name} {kind}")
        for labels, value in samples:
            self.lines.append(f"vllm:{name}{_labels(labels)} {go_float(value)}")

    def counter(self, base: str, per_model: Iterable[tuple[dict[str, str], float, float]]) -> None:
        """A counter `base_total` and its `base_created` gauge.

        Items are (labels, value, created)."""
        items = list(per_model)
        self.family(f"{base}_total", "counter", base, ((lab, v) for lab, v, _ in items))
        self.family(f"{base}_created", "gauge", base, ((lab, c) for lab, _, c in items))

    def histogram(self, name: str, snapshots: Sequence[ModelSnapshot]) -> None:
        self.lines.append(f"# HELP vllm:{name} {_HELP[name]}")
        self.lines.append(f"# TYPE vllm:{name} histogram")
        for snap in snapshots:
            hist = snap.metrics.histograms[name]
            base = {"engine": "0", "model_name": snap.name}
            running = 0
            for bound, count in zip((*hist.bounds, float("inf")), hist.buckets, strict=True):
                running += count
                labels = _labels({**base, "le": go_float(bound)})
                self.lines.append(f"vllm:{name}_bucket{labels} {go_float(running)}")
            self.lines.append(f"vllm:{name}_count{_labels(base)} {go_float(hist.count)}")
            self.lines.append(f"vllm:{name}_sum{_labels(base)} {go_float(hist.total)}")
        self.family(
            f"{name}_created",
            "gauge",
            name,
            (
                ({"engine": "0", "model_name": s.name}, s.metrics.histograms[name].created)
                for s in snapshots
            ),
        )


_HISTOGRAMS = (
    "request_prompt_tokens",
    "request_generation_tokens",
    "iteration_tokens_total",
    "request_max_num_generation_tokens",
    "request_params_n",
    "request_params_max_tokens",
    "time_to_first_token_seconds",
    "inter_token_latency_seconds",
    "request_time_per_output_token_seconds",
    "e2e_request_latency_seconds",
    "request_queue_time_seconds",
    "request_inference_time_seconds",
    "request_prefill_time_seconds",
    "request_decode_time_seconds",
    "request_num_preemptions",
    "request_prefill_kv_computed_tokens",
)


def render_metrics(snapshots: Sequence[ModelSnapshot]) -> str:
    """The /metrics text for these models."""
    out = _Writer()

    def base(snap: ModelSnapshot, **extra: str) -> dict[str, str]:
        return {"engine": "0", "model_name": snap.name, **extra}

    def zero_counter(name: str) -> None:
        out.counter(name, ((base(s), 0.0, s.metrics.created) for s in snapshots))

    for name in (
        "estimated_flops_per_gpu",
        "estimated_read_bytes_per_gpu",
        "estimated_write_bytes_per_gpu",
    ):
        zero_counter(name)
    out.family(
        "num_requests_running",
        "gauge",
        "num_requests_running",
        ((base(s), float(s.running)) for s in snapshots),
    )
    out.family(
        "num_requests_waiting",
        "gauge",
        "num_requests_waiting",
        ((base(s), float(s.waiting)) for s in snapshots),
    )
    out.family(
        "num_requests_waiting_by_reason",
        "gauge",
        "num_requests_waiting_by_reason",
        [
            sample
            for s in snapshots
            for sample in (
                (base(s, reason="capacity"), float(s.waiting)),
                (base(s, reason="deferred"), 0.0),
            )
        ],
    )
    out.family(
        "engine_sleep_state",
        "gauge",
        "engine_sleep_state",
        [
            sample
            for s in snapshots
            for sample in (
                (base(s, sleep_state="awake"), 1.0),
                (base(s, sleep_state="weights_offloaded"), 0.0),
                (base(s, sleep_state="discard_all"), 0.0),
            )
        ],
    )
    out.family(
        "kv_cache_usage_perc",
        "gauge",
        "kv_cache_usage_perc",
        ((base(s), s.kv_cache_usage) for s in snapshots),
    )
    out.counter(
        "prefix_cache_queries",
        ((base(s), float(s.metrics.prompt_tokens), s.metrics.created) for s in snapshots),
    )
    for name in (
        "prefix_cache_hits",
        "external_prefix_cache_queries",
        "external_prefix_cache_hits",
        "mm_cache_queries",
        "mm_cache_hits",
        "num_preemptions",
    ):
        zero_counter(name)
    out.counter(
        "prompt_tokens",
        ((base(s), float(s.metrics.prompt_tokens), s.metrics.created) for s in snapshots),
    )
    sources = ("local_compute", "local_cache_hit", "external_kv_transfer")
    out.counter(
        "prompt_tokens_by_source",
        [
            (
                base(s, source=src),
                float(s.metrics.prompt_tokens if src == "local_compute" else 0),
                s.metrics.created,
            )
            for s in snapshots
            for src in sources
        ],
    )
    zero_counter("prompt_tokens_cached")
    tiers = ("device", "host", "p2p", "disk", "external_unspecified")
    out.counter(
        "prompt_tokens_cached_by_source",
        [(base(s, source=tier), 0.0, s.metrics.created) for s in snapshots for tier in tiers],
    )
    out.counter(
        "generation_tokens",
        ((base(s), float(s.metrics.generation_tokens), s.metrics.created) for s in snapshots),
    )
    out.counter(
        "request_success",
        [
            (base(s, finished_reason=reason), float(s.metrics.success[reason]), s.metrics.created)
            for s in snapshots
            for reason in FINISH_REASONS
        ],
    )
    out.counter(
        "admission_rejections",
        [
            ({"model_name": s.name, "reason": reason}, 0.0, s.metrics.created)
            for s in snapshots
            for reason in ("max_num_queued_reqs", "max_num_queued_tokens")
        ],
    )
    for name in _HISTOGRAMS:
        out.histogram(name, snapshots)
    out.family(
        "cache_config_info",
        "gauge",
        "cache_config_info",
        [
            (
                base(
                    s,
                    block_size="16",
                    cache_dtype="auto",
                    enable_prefix_caching="True",
                    gpu_memory_utilization="0.9",
                    kv_cache_size_tokens=str(s.kv_cache_tokens),
                    num_gpu_blocks=str(s.kv_cache_tokens // 16),
                ),
                1.0,
            )
            for s in snapshots
        ],
    )
    return "\n".join(out.lines) + "\n"
