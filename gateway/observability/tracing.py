"""OpenTelemetry traces: one span per request, following the GenAI semantic conventions.

The span is written when the request is over, from its ledger record, with the record's start and
end times: the request path carries no span object and nothing is done while a request runs.
Spans go to an OTLP/HTTP collector through a batch processor (export happens on a background
thread). Without a collector endpoint, tracing is off and :meth:`Tracing.record_request` returns
at once.

A span holds identifiers, counts and timings only. Prompt and completion text are recorded only
when the caller passes ``capture_content=True`` (a policy decision, off by default).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from billing.ledger.record import LedgerRecord
from gateway.settings import Settings

SERVICE_NAME = "hygie"
TRACES_PATH = "/v1/traces"

# The gateway's endpoints and the GenAI operation each one is (gen_ai.operation.name values).
OPERATIONS = {"chat": "chat", "completions": "text_completion", "embeddings": "embeddings"}

# The batch processor's defaults queue 2,048 spans and export every 5 s: at ~1,500 requests/s
# that overflows between two exports. A larger queue rides out a slow collector for a few
# seconds; batches still leave as soon as 512 spans are waiting.
_MAX_QUEUE = 16_384
_BATCH = 512
_SCHEDULE_DELAY_MS = 1_000

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_DEFAULT_PORTS = {"http": 80, "https": 443}

# The W3C trace-context propagator holds no state; one instance serves every request.
_PROPAGATOR = TraceContextTextMapPropagator()


def parent_context(traceparent: str | None, tracestate: str | None = None) -> Context | None:
    """The caller's trace context from its ``traceparent``/``tracestate`` header values.

    None when there is no header; an invalid header gives a context with no parent, so the span
    starts a new trace (the W3C rule) instead of failing the request.
    """
    if not traceparent:
        return None
    carrier = {"traceparent": traceparent}
    if tracestate:
        carrier["tracestate"] = tracestate
    return _PROPAGATOR.extract(carrier)


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL for a collector base URL (``http://collector:4318``).

    Like ``OTEL_EXPORTER_OTLP_ENDPOINT``, the signal path is appended unless already there.
    """
    base = endpoint.rstrip("/")
    return base if base.endswith(TRACES_PATH) else base + TRACES_PATH


def nanoseconds(moment: datetime) -> int:
    """Nanoseconds since the Unix epoch, exact to the microsecond (naive times are UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MICROSECOND * 1000


def error_type(record: LedgerRecord) -> str | None:
    """The span's ``error.type``: the gateway's error class, else the failing status code."""
    if record.error_class is not None:
        return record.error_class
    if record.client_disconnected:
        return "client_disconnected"
    if record.status_code >= 400:
        return str(record.status_code)
    return None


class Tracing:
    """Writes request spans, or does nothing when no exporter is configured.

    Create one at start and call :meth:`shutdown` at stop (it exports what is still queued).
    The tracer provider is this object's own: the process-wide OpenTelemetry globals are not set.
    """

    def __init__(
        self,
        *,
        otlp_endpoint: str | None,
        service_name: str = SERVICE_NAME,
        service_version: str | None = None,
        exporter: SpanExporter | None = None,
        sample_ratio: float = 1.0,
        export_timeout_s: float = 10.0,
    ) -> None:
        """``exporter`` replaces the OTLP exporter (tests pass an in-memory one).

        ``sample_ratio`` applies to traces the gateway starts; a caller's sampling decision
        (the ``traceparent`` flag) is followed.
        """
        if exporter is None and otlp_endpoint:
            # The exporter's protobuf stack is imported only when tracing is configured.
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter(
                endpoint=traces_url(otlp_endpoint), timeout=export_timeout_s
            )
        self._provider: TracerProvider | None = None
        self._tracer: Tracer | None = None
        self._servers: dict[str, tuple[str | None, int | None]] = {}
        if exporter is None:
            return
        attributes: dict[str, str] = {"service.name": service_name}
        if service_version:
            attributes["service.version"] = service_version
        # Resource(...) rather than Resource.create(): the latter also merges detectors and
        # OTEL_RESOURCE_ATTRIBUTES; Hygie's settings are read in gateway.settings only.
        provider = TracerProvider(
            sampler=ParentBased(TraceIdRatioBased(sample_ratio)),
            resource=Resource(attributes),
            shutdown_on_exit=False,  # shutdown() is called by the app's lifespan
        )
        provider.add_span_processor(
            BatchSpanProcessor(
                exporter,
                max_queue_size=_MAX_QUEUE,
                max_export_batch_size=_BATCH,
                schedule_delay_millis=_SCHEDULE_DELAY_MS,
                export_timeout_millis=export_timeout_s * 1000,
            )
        )
        self._provider = provider
        self._tracer = provider.get_tracer("hygie.gateway")

    @classmethod
    def from_settings(cls, settings: Settings, *, service_version: str | None = None) -> Tracing:
        """Tracing to ``settings.otlp_endpoint``, or off when it is not set."""
        return cls(
            otlp_endpoint=settings.otlp_endpoint,
            service_version=service_version,
            sample_ratio=settings.trace_sample_ratio,
        )

    @property
    def enabled(self) -> bool:
        return self._tracer is not None

    def record_request(
        self,
        record: LedgerRecord,
        *,
        provider: str,
        server_address: str | None = None,
        server_port: int | None = None,
        department: str | None = None,
        response_model: str | None = None,
        max_tokens: int | None = None,
        parent: Context | None = None,
        capture_content: bool = False,
        input_messages: Any = None,
        output_messages: Any = None,
    ) -> SpanContext | None:
        """Write the span of one finished request; None when tracing is off.

        ``provider`` is ``gen_ai.provider.name`` (``vllm``, or litellm's provider name).
        The server defaults to the host and port of ``record.replica``. ``parent`` comes from
        :func:`parent_context`. ``input_messages``/``output_messages`` (JSON-serialisable) are
        recorded only when ``capture_content`` is True.
        """
        tracer = self._tracer
        if tracer is None:
            return None
        operation = OPERATIONS.get(record.endpoint, record.endpoint)
        attributes: dict[str, str | bool | int | float] = {
            "gen_ai.operation.name": operation,
            "gen_ai.provider.name": provider,
            "gen_ai.usage.input_tokens": record.prompt_tokens,
            "gen_ai.usage.output_tokens": record.completion_tokens,
            "http.response.status_code": record.status_code,
            "hygie.request_id": record.request_id,
            "hygie.attempts": record.attempts,
        }
        if record.model is not None:
            attributes["gen_ai.request.model"] = record.model
        if response_model is not None:
            attributes["gen_ai.response.model"] = response_model
        if max_tokens is not None:
            attributes["gen_ai.request.max_tokens"] = max_tokens
        if record.cached_tokens:
            attributes["gen_ai.usage.cache_read.input_tokens"] = record.cached_tokens
        if record.streamed:
            # The convention sets gen_ai.request.stream only on streaming requests.
            attributes["gen_ai.request.stream"] = True
            if record.ttft_ms is not None:
                attributes["gen_ai.response.time_to_first_chunk"] = record.ttft_ms / 1000
        if server_address is None and record.replica is not None:
            server_address, default_port = self._server_of(record.replica)
            server_port = server_port if server_port is not None else default_port
        if server_address is not None:
            attributes["server.address"] = server_address
            if server_port is not None:
                attributes["server.port"] = server_port
        failure = error_type(record)
        if failure is not None:
            attributes["error.type"] = failure
        optional = (
            ("hygie.department", department),
            ("hygie.deployment", record.deployment),
            ("hygie.data_class", record.data_class),
            ("hygie.policy.decision", record.policy_decision),
        )
        for name, value in optional:
            if value is not None:
                attributes[name] = value
        if record.tokens_estimated:
            attributes["hygie.usage.estimated"] = True
        if capture_content:
            if input_messages is not None:
                attributes["gen_ai.input.messages"] = orjson.dumps(input_messages).decode()
            if output_messages is not None:
                attributes["gen_ai.output.messages"] = orjson.dumps(output_messages).decode()
        name = operation if record.model is None else f"{operation} {record.model}"
        span = tracer.start_span(
            name,
            context=parent,
            kind=SpanKind.CLIENT,
            attributes=attributes,
            start_time=nanoseconds(record.started_at),
        )
        if failure is not None:
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=nanoseconds(record.finished_at))
        return span.get_span_context()

    def force_flush(self, timeout_s: float = 10.0) -> bool:
        """Export every queued span now; False if that did not finish within ``timeout_s``."""
        if self._provider is None:
            return True
        return self._provider.force_flush(int(timeout_s * 1000))

    def shutdown(self) -> None:
        """Export what is queued and stop the export thread. Safe to call more than once."""
        provider, self._provider, self._tracer = self._provider, None, None
        if provider is not None:
            provider.shutdown()

    def _server_of(self, url: str) -> tuple[str | None, int | None]:
        # Replica URLs come from the configuration: the cache is bounded by it.
        server = self._servers.get(url)
        if server is None:
            parts = urlsplit(url)
            try:
                port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
            except ValueError:  # a port that is not a number: keep the host, drop the port
                port = None
            server = self._servers[url] = (parts.hostname, port)
        return server
