"""What a vLLM replica says about its own load, read from its Prometheus ``/metrics`` text.

Only three gauges matter for routing: requests waiting for a slot, requests running, and the
share of the KV cache in use. Lines of other families are skipped before parsing, so reading a
~60 kB exposition costs a string scan, not a full parse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

WAITING = "vllm:num_requests_waiting"
RUNNING = "vllm:num_requests_running"
KV_CACHE = "vllm:kv_cache_usage_perc"
# Name of the same gauge before vLLM 0.10; kept so older servers still give a KV signal.
KV_CACHE_LEGACY = "vllm:gpu_cache_usage_perc"
_FAMILIES = (WAITING, RUNNING, KV_CACHE, KV_CACHE_LEGACY)
_PREFIXES = tuple(f"{name}{sep}" for name in _FAMILIES for sep in ("{", " "))


@dataclass(frozen=True, slots=True)
class VllmLoad:
    """One reading of a replica's load for one served model.

    ``kv_cache`` is a fraction in [0, 1] (vLLM's ``_perc`` gauges are fractions), or None when
    the server does not publish it.
    """

    waiting: float
    running: float
    kv_cache: float | None


@dataclass(frozen=True, slots=True)
class LoadSample:
    """A reading and when it was taken (monotonic clock), with the gateway's own in-flight count
    for that replica at that moment (to tell our requests from other clients').

    ``capacity`` is how many requests the server runs at once, as last observed: the running
    count of a reading that had requests waiting (the server was full), raised whenever more
    run; None until the server was seen full.
    """

    load: VllmLoad
    taken_at: float
    in_flight_at_sample: int
    capacity: float | None = None


def next_sample(
    previous: LoadSample | None, load: VllmLoad, taken_at: float, in_flight: int
) -> LoadSample:
    """The sample for a new reading, carrying the learned capacity forward."""
    capacity = previous.capacity if previous is not None else None
    if load.waiting > 0 or (capacity is not None and load.running > capacity):
        capacity = load.running
    return LoadSample(load, taken_at, in_flight, capacity)


def parse_vllm_load(text: str, served_model: str) -> VllmLoad | None:
    """The load of ``served_model`` in a Prometheus text exposition, or None if it is not there.

    Waiting and running are summed over label sets (engines of a data-parallel server); the KV
    cache share is their mean, since a fraction does not add up across engines. Samples are those
    whose ``model_name`` label is ``served_model``; when no sample carries that name (a server
    started with an alias), every sample of the family is used. A malformed line is skipped.
    Returns None when waiting or running is missing: the text is not from a vLLM server.
    """
    values: dict[str, list[tuple[str | None, float]]] = {name: [] for name in _FAMILIES}
    for line in text.splitlines():
        if not line.startswith(_PREFIXES):
            continue
        try:
            families = list(text_string_to_metric_families(line + "\n"))
        except ValueError:
            continue
        for family in families:
            for sample in family.samples:
                if sample.name in values and math.isfinite(sample.value):
                    values[sample.name].append((sample.labels.get("model_name"), sample.value))
    waiting = _for_model(values[WAITING], served_model)
    running = _for_model(values[RUNNING], served_model)
    if not waiting or not running:
        return None
    kv = _for_model(values[KV_CACHE] or values[KV_CACHE_LEGACY], served_model)
    return VllmLoad(
        waiting=sum(waiting),
        running=sum(running),
        kv_cache=min(1.0, max(0.0, sum(kv) / len(kv))) if kv else None,
    )


def _for_model(samples: list[tuple[str | None, float]], served_model: str) -> list[float]:
    mine = [value for name, value in samples if name == served_model]
    return mine or [value for _, value in samples]
