"""Prometheus metrics of the gateway, held in a registry owned by one :class:`GatewayMetrics`.

Names follow the Prometheus rules: base units (seconds, euros), ``_total`` on counters. No label
ever holds a user, a key or a request id, and every label has a bounded set of values:

* ``model``: a name from the catalogue, anything else as ``unknown``. Clients may send any string
  as a model name; letting it through would let one client create series without limit;
* ``endpoint``: ``chat`` | ``completions`` | ``embeddings``; ``status``: the HTTP status code;
* ``type``: ``input`` (uncached input) | ``cached_input`` | ``output``, so that the three add up
  to the tokens billed, as in :class:`billing.pricing.price_book.TokenUsage`;
* ``department``: only on ``hygie_cost_eur_total``, where chargeback needs it (tens of values);
* ``deployment``, ``replica``: from the configuration; ``scope``, ``decision``, ``data_class``,
  ``outcome``: small fixed vocabularies of the quota, policy and router modules.

The Grafana dashboard (``helm/hygie/dashboards/hygie.json``) and the Helm chart read these names.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from billing.ledger.record import LedgerRecord

UNKNOWN = "unknown"

# Request duration, whole request (for streams: until the last byte). Requests range from a few
# milliseconds (refusals, small embeddings) to minutes (long generations), so the buckets run
# from 5 ms to 10 min in steps of about 2-2.5x: histogram_quantile then interpolates within a
# factor of ~2 anywhere on that range, and a (model, endpoint) pair costs 20 series.
REQUEST_DURATION_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0,
)  # fmt: skip

# Time to first token of streams: prefill plus queueing in vLLM. Interactive targets sit between
# 100 ms and 3 s, so the buckets are finest there; the tail reaches 60 s for saturated queues.
TIME_TO_FIRST_TOKEN_BUCKETS = (
    0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5,
    2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0,
)  # fmt: skip

# The sovereignty step (identifier detection, policy, pseudonymisation): tens of microseconds for
# a chat turn already seen, milliseconds for a new long prompt, seconds for a pasted record of
# several megabytes.
POLICY_STEP_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip


class LedgerStats(Protocol):
    """What the ledger writer tells about itself (:class:`billing.ledger.writer.LedgerWriter`)."""

    @property
    def backlog(self) -> int: ...

    @property
    def spooled_total(self) -> int: ...

    @property
    def quarantined_total(self) -> int: ...


@dataclass(frozen=True, slots=True)
class _RequestSeries:
    """The children one (model, endpoint, status) request touches, looked up once."""

    requests: Counter
    duration: Histogram
    time_to_first_token: Histogram
    input_tokens: Counter
    cached_input_tokens: Counter
    output_tokens: Counter


class _LedgerCollector:
    """Reads the ledger writer's figures when Prometheus scrapes, not on every request."""

    def __init__(self, stats: LedgerStats) -> None:
        self._stats = stats

    def describe(self) -> Iterable[Metric]:
        return self._families(backlog=None, spooled=None, quarantined=None)

    def collect(self) -> Iterable[Metric]:
        stats = self._stats
        return self._families(
            backlog=stats.backlog,
            spooled=stats.spooled_total,
            quarantined=stats.quarantined_total,
        )

    @staticmethod
    def _families(
        backlog: int | None, spooled: int | None, quarantined: int | None
    ) -> list[Metric]:
        return [
            GaugeMetricFamily(
                "hygie_ledger_backlog",
                "Ledger records accepted but not yet written to the database.",
                value=backlog,
            ),
            CounterMetricFamily(
                "hygie_ledger_spooled",
                "Ledger records kept in the local journal because the database was unreachable.",
                value=spooled,
            ),
            CounterMetricFamily(
                "hygie_ledger_quarantined",
                "Ledger records the database refused, and journal lines that did not decode, "
                "moved to the journal's quarantine file.",
                value=quarantined,
            ),
        ]


class DuplicateLedgerWatch(RuntimeError):
    """:meth:`GatewayMetrics.watch_ledger` was called twice on the same metrics."""


class GatewayMetrics:
    """All the gateway's metrics, in a registry of their own; create one at start.

    The recording methods are synchronous, do no I/O and are safe to call from any thread.
    """

    def __init__(self, *, models: Collection[str]) -> None:
        """``models``: the catalogue's model names; other names are counted as ``unknown``."""
        self._models = frozenset(models)
        registry = self.registry = CollectorRegistry()
        self._requests = Counter(
            "hygie_requests_total",
            "Requests to the inference endpoints, by answer status.",
            ["model", "endpoint", "status"],
            registry=registry,
        )
        self._duration = Histogram(
            "hygie_request_duration_seconds",
            "Time from receiving a request to sending its last byte.",
            ["model", "endpoint"],
            buckets=REQUEST_DURATION_BUCKETS,
            unit="seconds",
            registry=registry,
        )
        self._ttft = Histogram(
            "hygie_time_to_first_token_seconds",
            "Time from receiving a streaming request to relaying its first token.",
            ["model"],
            buckets=TIME_TO_FIRST_TOKEN_BUCKETS,
            unit="seconds",
            registry=registry,
        )
        self._tokens = Counter(
            "hygie_tokens_total",
            "Tokens billed, by type: input (uncached), cached_input, output.",
            ["model", "type"],
            registry=registry,
        )
        # Euros as a float: a metric is an approximation for dashboards; the ledger stays exact.
        self._cost = Counter(
            "hygie_cost_eur_total",
            "Cost of requests in euros, as priced when they ended.",
            ["department", "model"],
            registry=registry,
        )
        self._quota_refusals = Counter(
            "hygie_quota_refusals_total",
            "Requests refused by a quota or rate limit, by the scope that refused.",
            ["scope"],
            registry=registry,
        )
        self._policy_decisions = Counter(
            "hygie_policy_decisions_total",
            "Sovereignty policy decisions, by decision and data class of the request.",
            ["decision", "data_class"],
            registry=registry,
        )
        self._policy_step = Histogram(
            "hygie_policy_step_seconds",
            "Time to classify a request and decide where it may go, identifier detection included.",
            buckets=POLICY_STEP_BUCKETS,
            unit="seconds",
            registry=registry,
        )
        self._upstream_healthy = Gauge(
            "hygie_upstream_healthy",
            "1 when the replica passed its last health check, 0 otherwise.",
            ["deployment", "replica"],
            registry=registry,
        )
        self._upstream_attempts = Counter(
            "hygie_upstream_attempts_total",
            "Attempts to send a request to a replica, by outcome.",
            ["deployment", "outcome"],
            registry=registry,
        )
        # Label lookups in prometheus_client cost a few microseconds (validation, a lock); the
        # children are cached here. Every key is built from bounded values, so are the caches.
        self._series: dict[tuple[str, str, int], _RequestSeries] = {}
        self._costs: dict[tuple[str, str], Counter] = {}
        self._decisions: dict[tuple[str, str], Counter] = {}
        self._attempts: dict[tuple[str, str], Counter] = {}
        self._ledger_watched = False

    def observe_request(
        self,
        record: LedgerRecord,
        cost_eur: Decimal | None = None,
        department: str | None = None,
    ) -> None:
        """Count one finished request: status, duration, time to first token, tokens, cost.

        Call once per request, with the record submitted to the ledger. The time to first
        token is observed for streams only; the cost only when ``cost_eur`` is known.
        """
        model = record.model if record.model in self._models else UNKNOWN
        key = (model, record.endpoint, record.status_code)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = self._new_series(*key)
        series.requests.inc()
        series.duration.observe(record.latency_ms / 1000)
        if record.streamed and record.ttft_ms is not None:
            series.time_to_first_token.observe(record.ttft_ms / 1000)
        cached = record.cached_tokens
        uncached = record.prompt_tokens - cached
        if uncached > 0:
            series.input_tokens.inc(uncached)
        if cached > 0:
            series.cached_input_tokens.inc(cached)
        if record.completion_tokens > 0:
            series.output_tokens.inc(record.completion_tokens)
        if cost_eur is not None:
            cost_key = (department or UNKNOWN, model)
            cost = self._costs.get(cost_key)
            if cost is None:
                cost = self._costs[cost_key] = self._cost.labels(*cost_key)
            cost.inc(float(cost_eur))

    def quota_refused(self, scope: str) -> None:
        """Count one request refused by a quota or rate limit of ``scope`` (e.g. ``department``)."""
        self._quota_refusals.labels(scope).inc()

    def policy_decision(self, decision: str, data_class: str) -> None:
        """Count one policy decision (``allow``, ``deny``, ...) for a request of ``data_class``."""
        key = (str(decision), str(data_class))
        counter = self._decisions.get(key)
        if counter is None:
            counter = self._decisions[key] = self._policy_decisions.labels(*key)
        counter.inc()

    def policy_step(self, seconds: float) -> None:
        """Observe the duration of one request's sovereignty step."""
        self._policy_step.observe(seconds)

    def upstream_attempt(self, deployment: str, outcome: str) -> None:
        """Count one attempt on a replica of ``deployment``.

        ``outcome`` comes from a small fixed set, for instance ``ok``, ``unreachable``,
        ``timeout``, ``retryable_status``, ``rejected``.
        """
        key = (deployment, outcome)
        counter = self._attempts.get(key)
        if counter is None:
            counter = self._attempts[key] = self._upstream_attempts.labels(*key)
        counter.inc()

    def set_upstream_health(self, deployment: str, replica: str, healthy: bool) -> None:
        """Record the result of the last health check of one replica."""
        self._upstream_healthy.labels(deployment, replica).set(1 if healthy else 0)

    def watch_ledger(self, stats: LedgerStats) -> None:
        """Expose the ledger writer's backlog and spooled count, read at each scrape."""
        if self._ledger_watched:
            raise DuplicateLedgerWatch("the ledger is already watched by these metrics")
        self.registry.register(_LedgerCollector(stats))
        self._ledger_watched = True

    def render(self, accept: str | None = None) -> tuple[bytes, str]:
        """The body and content type of a ``/metrics`` answer.

        ``accept`` is the scrape's ``Accept`` header: OpenMetrics when Prometheus asks for it,
        else the classic text format.
        """
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type

    def _new_series(self, model: str, endpoint: str, status: int) -> _RequestSeries:
        tokens = self._tokens
        return _RequestSeries(
            requests=self._requests.labels(model, endpoint, str(status)),
            duration=self._duration.labels(model, endpoint),
            time_to_first_token=self._ttft.labels(model),
            input_tokens=tokens.labels(model, "input"),
            cached_input_tokens=tokens.labels(model, "cached_input"),
            output_tokens=tokens.labels(model, "output"),
        )
