"""The state of one request as it moves through the pipeline, and its ledger record."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from billing.directory import Principal
from billing.ledger.record import LedgerRecord
from billing.pricing.token_estimate import estimate_completion_tokens, estimate_prompt_tokens
from billing.usage import Usage
from gateway.errors import GatewayError, status_of
from gateway.routing.router import Attempts
from gateway.steps.quota_gate import Hold
from policies.decision import Decision


@dataclass(slots=True)
class Exchange:
    """Everything the ledger needs about one request; filled in as the request progresses."""

    request_id: str
    endpoint: str
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: float = field(default_factory=time.perf_counter)
    owner: Principal | None = None
    model: str | None = None
    deployment: str | None = None
    replica: str | None = None
    provider: str | None = None
    status_code: int = 200
    error_class: str | None = None
    usage: Usage | None = None
    ttft_ms: float | None = None
    streamed: bool = False
    client_disconnected: bool = False
    attempts: Attempts = field(default_factory=Attempts)
    body: dict[str, Any] | None = None
    data_class: str | None = None
    policy_version: str | None = None
    policy_decision: str | None = None
    entity_counts: dict[str, int] | None = None
    traceparent: str | None = None
    hold: Hold | None = None
    cost_micro_eur: int | None = None
    price_version: str | None = None
    fx_rate: str | None = None
    use_case_flag: str | None = None
    recorded: bool = False

    def note_decision(self, decision: Decision) -> None:
        """Keep what the ledger stores of a policy decision: class, version, counts — no values."""
        self.data_class = decision.data_class.label
        self.policy_version = decision.policy_version
        self.policy_decision = decision.kind.value
        self.entity_counts = dict(decision.entity_counts) or None

    def fail(self, error: GatewayError) -> None:
        self.status_code = status_of(error)
        self.error_class = error.error_class

    def mark_first_byte(self) -> None:
        if self.ttft_ms is None:
            self.ttft_ms = (time.perf_counter() - self.started) * 1000

    def settle_usage(self, usage: Usage | None, *, chunks_with_choices: int = 0) -> None:
        """Keep the server's usage, or estimate it when an upstream was reached but said nothing.

        A request that reached a model server is never recorded as free.
        """
        if usage is not None:
            self.usage = usage
            return
        if not self.attempts.count or self.body is None:
            self.usage = Usage()
            return
        self.usage = Usage(
            prompt_tokens=estimate_prompt_tokens(self.endpoint, self.body),
            completion_tokens=estimate_completion_tokens(self.endpoint, chunks_with_choices),
            estimated=True,
        )

    def settle_unanswered(self) -> None:
        """For a request that ends without the upstream's answer (client gone, internal error,
        shutdown): keep what is known of where it went, and never record it as free when it
        reached a model server (the prompt was processed: estimated tokens)."""
        if self.deployment is None and self.attempts.tried:
            # Labels are ``deployment@base_url`` (see Replica.label).
            deployment, _, replica = self.attempts.tried[-1].partition("@")
            self.deployment, self.replica = deployment, replica or None
        self.settle_usage(self.usage)

    def record(self) -> LedgerRecord:
        """The ledger record; call once, when the request is over."""
        elapsed = time.perf_counter() - self.started
        usage = self.usage or Usage()
        owner = self.owner
        return LedgerRecord(
            request_id=self.request_id,
            started_at=self.started_at,
            finished_at=self.started_at + timedelta(seconds=elapsed),
            endpoint=self.endpoint,
            status_code=self.status_code,
            latency_ms=round(elapsed * 1000, 3),
            key_id=owner.key_id if owner else None,
            user_id=owner.user_id if owner else None,
            department_id=owner.department_id if owner else None,
            use_case=owner.use_case if owner else None,
            front_end_key_id=owner.front_end_key_id if owner else None,
            end_user_verified=(
                owner.end_user_verified if owner and owner.front_end_key_id else None
            ),
            model=self.model,
            deployment=self.deployment,
            replica=self.replica,
            error_class=self.error_class,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cached_tokens=usage.cached_tokens,
            tokens_estimated=usage.estimated,
            ttft_ms=None if self.ttft_ms is None else round(self.ttft_ms, 3),
            streamed=self.streamed,
            client_disconnected=self.client_disconnected,
            attempts=self.attempts.count,
            fallback_model=self.attempts.fallback_model,
            data_class=self.data_class,
            policy_version=self.policy_version,
            policy_decision=self.policy_decision,
            entity_counts=self.entity_counts,
            cost_micro_eur=self.cost_micro_eur,
            price_version=self.price_version,
            fx_rate=self.fx_rate,
            use_case_flag=self.use_case_flag,
        )
