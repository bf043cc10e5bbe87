"""Request spans follow the GenAI semantic conventions, never hold content by default, join the
caller's trace, and reach a real OTLP/HTTP endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from billing.ledger.record import LedgerRecord
from gateway.observability.tracing import Tracing, nanoseconds, parent_context, traces_url
from gateway.settings import Settings

PROMPT = "Patient Jean Dupont, NIR 1 84 12 75 123 456 78, douleur thoracique"
COMPLETION = "Suspicion de syndrome coronarien aigu"
CALLER_TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN_ID = "b7ad6b7169203331"
STARTED = datetime(2026, 3, 2, 9, 30, 0, 123456, tzinfo=UTC)


def make_record(**overrides: Any) -> LedgerRecord:
    values: dict[str, Any] = {
        "request_id": "req_00ab",
        "started_at": STARTED,
        "finished_at": STARTED + timedelta(seconds=1, microseconds=250),
        "endpoint": "chat",
        "status_code": 200,
        "latency_ms": 1000.25,
        "key_id": "key_0123",
        "user_id": 77,
        "department_id": 3,
        "model": "llama-3-8b",
        "deployment": "vllm-a",
        "replica": "http://vllm-a-0.vllm:8000/v1",
        "prompt_tokens": 120,
        "cached_tokens": 64,
        "completion_tokens": 30,
        "data_class": "health",
        "policy_decision": "allow",
        "attempts": 1,
        **overrides,
    }
    return LedgerRecord(**values)


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracing(exporter: InMemorySpanExporter) -> Iterator[Tracing]:
    tracing = Tracing(otlp_endpoint=None, exporter=exporter)
    yield tracing
    tracing.shutdown()


def finished(tracing: Tracing, exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    assert tracing.force_flush()
    return list(exporter.get_finished_spans())


def all_attribute_text(span: ReadableSpan) -> str:
    return " ".join(f"{k}={v!r}" for k, v in (span.attributes or {}).items())


def test_a_chat_request_becomes_one_client_span_with_genai_attributes(
    tracing: Tracing, exporter: InMemorySpanExporter
) -> None:
    context = tracing.record_request(
        make_record(streamed=True, ttft_ms=180.0),
        provider="vllm",
        department="cardiologie",
        response_model="meta-llama/Meta-Llama-3-8B-Instruct",
        max_tokens=256,
    )

    [span] = finished(tracing, exporter)
    assert context is not None and span.context is not None
    assert span.context.span_id == context.span_id
    assert span.name == "chat llama-3-8b"
    assert span.kind is SpanKind.CLIENT
    assert span.start_time == nanoseconds(STARTED)
    assert span.end_time is not None and span.end_time - span.start_time == 1_000_250_000
    assert span.status.status_code is StatusCode.UNSET
    assert span.resource.attributes["service.name"] == "hygie"
    assert dict(span.attributes or {}) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "vllm",
        "gen_ai.request.model": "llama-3-8b",
        "gen_ai.response.model": "meta-llama/Meta-Llama-3-8B-Instruct",
        "gen_ai.request.max_tokens": 256,
        "gen_ai.request.stream": True,
        "gen_ai.response.time_to_first_chunk": 0.18,
        # input tokens include the cached ones, as the convention says
        "gen_ai.usage.input_tokens": 120,
        "gen_ai.usage.cache_read.input_tokens": 64,
        "gen_ai.usage.output_tokens": 30,
        "server.address": "vllm-a-0.vllm",
        "server.port": 8000,
        "http.response.status_code": 200,
        "hygie.request_id": "req_00ab",
        "hygie.department": "cardiologie",
        "hygie.deployment": "vllm-a",
        "hygie.data_class": "health",
        "hygie.policy.decision": "allow",
        "hygie.attempts": 1,
    }


@pytest.mark.parametrize(
    ("endpoint", "operation"),
    [("completions", "text_completion"), ("embeddings", "embeddings")],
)
def test_operation_names_follow_the_convention(
    tracing: Tracing, exporter: InMemorySpanExporter, endpoint: str, operation: str
) -> None:
    tracing.record_request(make_record(endpoint=endpoint, model="bge-m3"), provider="vllm")

    [span] = finished(tracing, exporter)
    assert span.name == f"{operation} bge-m3"
    attributes = span.attributes or {}
    assert attributes["gen_ai.operation.name"] == operation
    assert "gen_ai.request.stream" not in attributes  # set only on streaming requests


def test_failures_carry_error_type_and_error_status(
    tracing: Tracing, exporter: InMemorySpanExporter
) -> None:
    tracing.record_request(
        make_record(status_code=504, error_class="upstream_timeout"), provider="vllm"
    )
    tracing.record_request(
        make_record(status_code=401, model=None, replica=None, deployment=None, attempts=0),
        provider="vllm",
    )
    tracing.record_request(make_record(status_code=499, client_disconnected=True), provider="vllm")

    timeout, refused, gone = finished(tracing, exporter)
    assert (timeout.attributes or {})["error.type"] == "upstream_timeout"
    assert timeout.status.status_code is StatusCode.ERROR
    assert refused.name == "chat"  # no model known: the operation alone
    assert (refused.attributes or {})["error.type"] == "401"
    assert "server.address" not in (refused.attributes or {})
    assert (gone.attributes or {})["error.type"] == "client_disconnected"


def test_no_content_and_no_personal_identifiers_by_default(
    tracing: Tracing, exporter: InMemorySpanExporter
) -> None:
    tracing.record_request(
        make_record(),
        provider="vllm",
        input_messages=[{"role": "user", "parts": [{"type": "text", "content": PROMPT}]}],
        output_messages=[{"role": "assistant", "parts": [{"type": "text", "content": COMPLETION}]}],
    )

    [span] = finished(tracing, exporter)
    text = all_attribute_text(span)
    assert "Dupont" not in text and "coronarien" not in text
    assert "gen_ai.input.messages" not in text and "gen_ai.output.messages" not in text
    assert not span.events
    # Neither the key nor the user is on the span (only the department, when given).
    attributes = span.attributes or {}
    assert "key_0123" not in attributes.values() and 77 not in attributes.values()
    assert not any("user" in name or "key" in name for name in attributes)


def test_content_is_recorded_only_when_a_policy_asks(
    tracing: Tracing, exporter: InMemorySpanExporter
) -> None:
    messages = [{"role": "user", "parts": [{"type": "text", "content": "bonjour"}]}]
    tracing.record_request(
        make_record(), provider="vllm", capture_content=True, input_messages=messages
    )

    [span] = finished(tracing, exporter)
    attributes = span.attributes or {}
    assert attributes["gen_ai.input.messages"] == (
        '[{"role":"user","parts":[{"type":"text","content":"bonjour"}]}]'
    )
    assert "gen_ai.output.messages" not in attributes


def test_the_span_joins_the_callers_trace(tracing: Tracing, exporter: InMemorySpanExporter) -> None:
    parent = parent_context(f"00-{CALLER_TRACE_ID}-{CALLER_SPAN_ID}-01", "vendor=opaque")
    tracing.record_request(make_record(), provider="vllm", parent=parent)
    tracing.record_request(make_record(), provider="vllm", parent=parent_context("garbage"))
    tracing.record_request(make_record(), provider="vllm", parent=parent_context(None))

    child, fresh, root = finished(tracing, exporter)
    assert child.context is not None and child.parent is not None
    assert format(child.context.trace_id, "032x") == CALLER_TRACE_ID
    assert format(child.parent.span_id, "016x") == CALLER_SPAN_ID
    assert child.parent.is_remote
    assert child.context.trace_state.get("vendor") == "opaque"
    # An invalid or absent header starts a new trace rather than failing the request.
    assert fresh.parent is None and root.parent is None


def test_a_caller_that_did_not_sample_is_followed(
    tracing: Tracing, exporter: InMemorySpanExporter
) -> None:
    unsampled = parent_context(f"00-{CALLER_TRACE_ID}-{CALLER_SPAN_ID}-00")
    context = tracing.record_request(make_record(), provider="vllm", parent=unsampled)

    assert context is not None and not context.trace_flags.sampled
    assert finished(tracing, exporter) == []


def test_an_explicit_server_overrides_the_replica_url(
    tracing: Tracing, exporter: InMemorySpanExporter
) -> None:
    tracing.record_request(make_record(replica="https://api.example.eu/v1"), provider="mistral_ai")
    tracing.record_request(
        make_record(), provider="vllm", server_address="10.0.0.7", server_port=8001
    )

    https, explicit = finished(tracing, exporter)
    assert (https.attributes or {})["server.address"] == "api.example.eu"
    assert (https.attributes or {})["server.port"] == 443
    assert (explicit.attributes or {})["server.address"] == "10.0.0.7"
    assert (explicit.attributes or {})["server.port"] == 8001


def test_without_an_endpoint_tracing_is_off() -> None:
    tracing = Tracing.from_settings(Settings(otlp_endpoint=None))

    assert not tracing.enabled
    assert tracing.record_request(make_record(), provider="vllm") is None
    assert tracing.force_flush()
    tracing.shutdown()


def test_traces_url_appends_the_signal_path_once() -> None:
    assert traces_url("http://collector:4318") == "http://collector:4318/v1/traces"
    assert traces_url("http://collector:4318/") == "http://collector:4318/v1/traces"
    assert traces_url("http://collector:4318/v1/traces") == "http://collector:4318/v1/traces"


def test_spans_reach_an_otlp_http_collector(
    collector: tuple[str, list[tuple[str, str, bytes]]],
) -> None:
    endpoint, received = collector
    tracing = Tracing.from_settings(Settings(otlp_endpoint=endpoint), service_version="1.2.3")
    assert tracing.enabled

    tracing.record_request(make_record(), provider="vllm", department="urgences")
    assert tracing.force_flush(timeout_s=10)
    tracing.shutdown()

    assert len(received) == 1
    path, content_type, body = received[0]
    assert path == "/v1/traces"
    assert content_type == "application/x-protobuf"
    export = ExportTraceServiceRequest.FromString(body)
    [resource_spans] = export.resource_spans
    resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert resource["service.name"] == "hygie" and resource["service.version"] == "1.2.3"
    [span] = [s for scope in resource_spans.scope_spans for s in scope.spans]
    assert span.name == "chat llama-3-8b"
    attributes = {a.key: a.value for a in span.attributes}
    assert attributes["gen_ai.provider.name"].string_value == "vllm"
    assert attributes["gen_ai.usage.input_tokens"].int_value == 120
    assert attributes["hygie.department"].string_value == "urgences"
