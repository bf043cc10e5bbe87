"""The gateway's Prometheus metrics: names, bounded labels, values, and the /metrics rendering."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from billing.ledger.journal import Journal
from billing.ledger.record import LedgerRecord
from billing.ledger.writer import LedgerWriter
from gateway.observability.metrics import (
    POLICY_STEP_BUCKETS,
    REQUEST_DURATION_BUCKETS,
    TIME_TO_FIRST_TOKEN_BUCKETS,
    DuplicateLedgerWatch,
    GatewayMetrics,
)
from policies.decision import DecisionKind

CHAT_MODEL = "llama-3-8b"
DASHBOARD_METRICS = {
    "hygie_requests_total",
    "hygie_request_duration_seconds",
    "hygie_time_to_first_token_seconds",
    "hygie_tokens_total",
    "hygie_cost_eur_total",
    "hygie_quota_refusals_total",
    "hygie_policy_decisions_total",
    "hygie_policy_step_seconds",
    "hygie_upstream_healthy",
    "hygie_ledger_backlog",
}
# Every label any Hygie metric may carry: nothing that names a user, a key or a request.
ALLOWED_LABELS = {
    "model",
    "endpoint",
    "status",
    "type",
    "department",
    "scope",
    "decision",
    "data_class",
    "deployment",
    "replica",
    "outcome",
    "le",
}


def make_record(**overrides: Any) -> LedgerRecord:
    started = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    latency_ms = overrides.pop("latency_ms", 800.0)
    values: dict[str, Any] = {
        "request_id": "req_0001",
        "started_at": started,
        "finished_at": started + timedelta(milliseconds=latency_ms),
        "endpoint": "chat",
        "status_code": 200,
        "latency_ms": latency_ms,
        "key_id": "key_secret_owner",
        "user_id": 4242,
        "model": CHAT_MODEL,
        "prompt_tokens": 120,
        "cached_tokens": 20,
        "completion_tokens": 30,
        **overrides,
    }
    return LedgerRecord(**values)


def make_metrics(models: tuple[str, ...] = (CHAT_MODEL,)) -> GatewayMetrics:
    return GatewayMetrics(models=models)


def sample(metrics: GatewayMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def families(metrics: GatewayMetrics) -> dict[str, Any]:
    body, _ = metrics.render()
    return {family.name: family for family in text_string_to_metric_families(body.decode())}


def test_a_request_counts_status_duration_and_tokens_by_type() -> None:
    metrics = make_metrics()
    metrics.observe_request(make_record(latency_ms=800.0))
    metrics.observe_request(make_record(status_code=429, prompt_tokens=0, cached_tokens=0))

    labels = {"model": CHAT_MODEL, "endpoint": "chat"}
    assert sample(metrics, "hygie_requests_total", **labels, status="200") == 1
    assert sample(metrics, "hygie_requests_total", **labels, status="429") == 1
    assert sample(metrics, "hygie_request_duration_seconds_count", **labels) == 2
    assert sample(metrics, "hygie_request_duration_seconds_sum", **labels) == pytest.approx(1.6)
    # 0.8 s lands in the 1 s bucket, not in the 0.5 s one.
    assert sample(metrics, "hygie_request_duration_seconds_bucket", **labels, le="0.5") == 0
    assert sample(metrics, "hygie_request_duration_seconds_bucket", **labels, le="1.0") == 2
    # input excludes cached input, so the three types add up to the tokens billed.
    assert sample(metrics, "hygie_tokens_total", model=CHAT_MODEL, type="input") == 100
    assert sample(metrics, "hygie_tokens_total", model=CHAT_MODEL, type="cached_input") == 20
    assert sample(metrics, "hygie_tokens_total", model=CHAT_MODEL, type="output") == 60


def test_time_to_first_token_is_observed_for_streams_only() -> None:
    metrics = make_metrics()
    metrics.observe_request(make_record(streamed=False, ttft_ms=700.0))
    metrics.observe_request(make_record(streamed=True, ttft_ms=250.0))
    metrics.observe_request(make_record(streamed=True, ttft_ms=None, status_code=502))

    assert sample(metrics, "hygie_time_to_first_token_seconds_count", model=CHAT_MODEL) == 1
    assert sample(metrics, "hygie_time_to_first_token_seconds_sum", model=CHAT_MODEL) == 0.25


def test_model_names_outside_the_catalogue_share_one_series() -> None:
    metrics = make_metrics()
    for i in range(50):
        metrics.observe_request(make_record(model=f"made-up-{i}", status_code=404))
    metrics.observe_request(make_record(model=None, status_code=401))

    requests = families(metrics)["hygie_requests"]
    models = {s.labels["model"] for s in requests.samples if s.name == "hygie_requests_total"}
    assert models == {"unknown"}
    assert sample(metrics, "hygie_requests_total", model="unknown", endpoint="chat", status="404")
    assert sample(metrics, "hygie_requests_total", model="unknown", endpoint="chat", status="401")


def test_cost_is_counted_by_department_and_model_in_euros() -> None:
    metrics = make_metrics()
    metrics.observe_request(make_record(), Decimal("0.0125"), "cardiologie")
    metrics.observe_request(make_record(), Decimal("0.0075"), "cardiologie")
    metrics.observe_request(make_record(), Decimal("0.5"), None)
    metrics.observe_request(make_record())  # not priced: no cost, not even zero

    cardio = sample(metrics, "hygie_cost_eur_total", department="cardiologie", model=CHAT_MODEL)
    assert cardio == pytest.approx(0.02)
    assert sample(metrics, "hygie_cost_eur_total", department="unknown", model=CHAT_MODEL) == 0.5
    # The department is a label of the cost only.
    assert sample(metrics, "hygie_requests_total", model=CHAT_MODEL, endpoint="chat", status="200")
    request_labels = {
        name for s in families(metrics)["hygie_requests"].samples for name in s.labels
    }
    assert "department" not in request_labels


def test_refusals_decisions_attempts_and_health() -> None:
    metrics = make_metrics()
    metrics.quota_refused("department")
    metrics.quota_refused("department")
    metrics.quota_refused("key")
    metrics.policy_decision(DecisionKind.REROUTE, "health")
    metrics.policy_decision("reroute", "health")
    metrics.upstream_attempt("vllm-a", "ok")
    metrics.upstream_attempt("vllm-a", "unreachable")
    metrics.set_upstream_health("vllm-a", "http://vllm-a-0:8000/v1", True)
    metrics.set_upstream_health("vllm-a", "http://vllm-a-1:8000/v1", True)
    metrics.set_upstream_health("vllm-a", "http://vllm-a-1:8000/v1", False)

    assert sample(metrics, "hygie_quota_refusals_total", scope="department") == 2
    assert sample(metrics, "hygie_quota_refusals_total", scope="key") == 1
    assert (
        sample(metrics, "hygie_policy_decisions_total", decision="reroute", data_class="health")
        == 2
    )
    assert sample(metrics, "hygie_upstream_attempts_total", deployment="vllm-a", outcome="ok") == 1
    healthy = {
        s.labels["replica"]: s.value for s in families(metrics)["hygie_upstream_healthy"].samples
    }
    assert healthy == {"http://vllm-a-0:8000/v1": 1.0, "http://vllm-a-1:8000/v1": 0.0}


def test_policy_step_durations_fall_in_their_buckets() -> None:
    metrics = make_metrics()
    metrics.policy_step(0.00008)  # a chat turn already seen
    metrics.policy_step(0.004)  # a new 16,000-character prompt
    metrics.policy_step(1.7)  # a pasted record of several megabytes

    assert sample(metrics, "hygie_policy_step_seconds_count") == 3
    assert sample(metrics, "hygie_policy_step_seconds_bucket", le="0.0001") == 1
    assert sample(metrics, "hygie_policy_step_seconds_bucket", le="0.005") == 2
    assert sample(metrics, "hygie_policy_step_seconds_bucket", le="2.5") == 3


def test_ledger_figures_are_read_from_the_writer_at_scrape_time(tmp_path: Path) -> None:
    async def unreachable(records: object) -> None:
        raise OSError("database down")

    writer = LedgerWriter(unreachable, Journal(tmp_path / "spool"), batch_size=10)
    metrics = make_metrics()
    metrics.watch_ledger(writer)
    for i in range(3):
        writer.submit(make_record(request_id=f"req_{i}"))
    assert sample(metrics, "hygie_ledger_backlog") == 3
    assert sample(metrics, "hygie_ledger_spooled_total") == 0

    asyncio.run(writer.flush())  # the database is down: the three records go to the spool

    assert sample(metrics, "hygie_ledger_backlog") == 0
    assert sample(metrics, "hygie_ledger_spooled_total") == 3
    with pytest.raises(DuplicateLedgerWatch):
        metrics.watch_ledger(writer)


def test_render_exposes_every_dashboard_metric_with_bounded_labels(tmp_path: Path) -> None:
    metrics = make_metrics()
    metrics.watch_ledger(LedgerWriter(_never_called, Journal(tmp_path)))
    metrics.observe_request(make_record(streamed=True, ttft_ms=90.0), Decimal("0.01"), "urgences")
    metrics.quota_refused("user")
    metrics.policy_decision("allow", "internal")
    metrics.policy_step(0.0004)
    metrics.set_upstream_health("vllm-a", "http://vllm-a-0:8000/v1", True)

    body, content_type = metrics.render()

    assert content_type.startswith("text/plain")
    text = body.decode()
    exposed = {f.name for f in text_string_to_metric_families(text)}
    for name in DASHBOARD_METRICS:
        base = name.removesuffix("_total")
        assert base in exposed, name
        assert f"\n{name}" in text, name
    labels = {
        label
        for family in text_string_to_metric_families(text)
        for s in family.samples
        for label in s.labels
    }
    assert labels <= ALLOWED_LABELS
    # Nothing of the record that identifies a person or a key reaches the exposition.
    assert "key_secret_owner" not in text and "4242" not in text and "req_0001" not in text


def test_render_speaks_openmetrics_when_asked() -> None:
    metrics = make_metrics()
    metrics.observe_request(make_record())

    body, content_type = metrics.render("application/openmetrics-text; version=1.0.0")

    assert content_type.startswith("application/openmetrics-text")
    assert body.endswith(b"# EOF\n")
    assert b"# UNIT hygie_request_duration_seconds seconds" in body


def test_each_instance_owns_its_registry() -> None:
    first, second = make_metrics(), make_metrics()
    first.observe_request(make_record())

    labels = {"model": CHAT_MODEL, "endpoint": "chat", "status": "200"}
    assert sample(first, "hygie_requests_total", **labels) == 1
    assert sample(second, "hygie_requests_total", **labels) is None
    assert REGISTRY.get_sample_value("hygie_requests_total", labels) is None


def test_buckets_cover_milliseconds_to_minutes() -> None:
    for buckets in (REQUEST_DURATION_BUCKETS, TIME_TO_FIRST_TOKEN_BUCKETS):
        assert list(buckets) == sorted(set(buckets))
        assert buckets[0] <= 0.01 and buckets[-1] >= 60
    assert REQUEST_DURATION_BUCKETS[-1] >= 600
    assert list(POLICY_STEP_BUCKETS) == sorted(set(POLICY_STEP_BUCKETS))
    assert POLICY_STEP_BUCKETS[0] <= 0.0001 and POLICY_STEP_BUCKETS[-1] >= 10


async def _never_called(records: object) -> None:
    raise AssertionError("the ledger is not flushed in this test")
