"""Reading waiting/running/KV-cache from vLLM's Prometheus text."""

from __future__ import annotations

from pathlib import Path

from gateway.routing.load_signals import VllmLoad, next_sample, parse_vllm_load

CAPTURE = Path(__file__).parents[1] / "fixtures" / "vllm_captures" / "metrics_under_load.body"

TWO_ENGINES = """\
# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="llama"} 4.0
vllm:num_requests_running{engine="1",model_name="llama"} 3.0
vllm:num_requests_running{engine="0",model_name="bge"} 9.0
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="llama"} 2.0
vllm:num_requests_waiting{engine="1",model_name="llama"} 1.0
vllm:num_requests_waiting{engine="0",model_name="bge"} 7.0
vllm:num_requests_waiting_by_reason{engine="0",model_name="llama",reason="capacity"} 50.0
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="llama"} 0.5
vllm:kv_cache_usage_perc{engine="1",model_name="llama"} 0.25
vllm:kv_cache_usage_perc{engine="0",model_name="bge"} 0.9
"""


def test_real_vllm_capture_under_load() -> None:
    load = parse_vllm_load(CAPTURE.read_text(encoding="utf-8"), "tiny-llama")
    assert load == VllmLoad(waiting=0.0, running=3.0, kv_cache=0.00073260073260073)


def test_label_sets_of_the_model_are_summed_and_kv_cache_averaged() -> None:
    assert parse_vllm_load(TWO_ENGINES, "llama") == VllmLoad(
        waiting=3.0, running=7.0, kv_cache=0.375
    )
    assert parse_vllm_load(TWO_ENGINES, "bge") == VllmLoad(waiting=7.0, running=9.0, kv_cache=0.9)


def test_an_alias_unknown_to_the_metrics_uses_every_label_set() -> None:
    load = parse_vllm_load(CAPTURE.read_text(encoding="utf-8"), "our-catalog-name")
    assert load == VllmLoad(waiting=0.0, running=3.0, kv_cache=0.00073260073260073)


def test_malformed_lines_are_skipped_and_legacy_kv_name_is_read() -> None:
    text = (
        'vllm:num_requests_running{model_name="m"} 2\n'
        'vllm:num_requests_waiting{model_name="m" 5\n'  # broken label set
        'vllm:num_requests_waiting{model_name="m",engine="1"} 1\n'
        'vllm:gpu_cache_usage_perc{model_name="m"} 0.125\n'
        'vllm:num_requests_waiting{model_name="m",engine="2"} NaN\n'
    )
    assert parse_vllm_load(text, "m") == VllmLoad(waiting=1.0, running=2.0, kv_cache=0.125)


def test_text_without_vllm_gauges_gives_nothing() -> None:
    assert parse_vllm_load("# HELP up\nup 1\n", "m") is None
    assert parse_vllm_load('vllm:num_requests_running{model_name="m"} 2\n', "m") is None
    assert parse_vllm_load("", "m") is None


def test_capacity_is_learned_when_the_server_is_full_and_carried_forward() -> None:
    idle = next_sample(None, VllmLoad(waiting=0, running=3, kv_cache=0.1), 1.0, 3)
    assert idle.capacity is None
    full = next_sample(idle, VllmLoad(waiting=2, running=8, kv_cache=0.9), 2.0, 10)
    assert (full.capacity, full.taken_at, full.in_flight_at_sample) == (8, 2.0, 10)
    calmer = next_sample(full, VllmLoad(waiting=0, running=5, kv_cache=0.5), 3.0, 5)
    assert calmer.capacity == 8
    bigger = next_sample(calmer, VllmLoad(waiting=0, running=12, kv_cache=0.5), 4.0, 12)
    assert bigger.capacity == 12
