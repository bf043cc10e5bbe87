"""One ledger record: everything the gateway knows about one request, values only."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from billing.ledger.bounds import bound_values


@dataclass(slots=True)
class LedgerRecord:
    """What is stored for each request, exactly once, keyed by ``request_id``.

    Never holds prompt or completion text: only identifiers, counts and timings. Every text
    and integer value fits its column once built (see :mod:`billing.ledger.bounds`), so no
    client-chosen value can make an insert fail.
    """

    request_id: str
    started_at: datetime
    finished_at: datetime
    endpoint: str
    status_code: int
    latency_ms: float
    key_id: str | None = None
    user_id: int | None = None
    department_id: int | None = None
    use_case: str | None = None
    model: str | None = None
    deployment: str | None = None
    replica: str | None = None
    error_class: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    tokens_estimated: bool = False
    ttft_ms: float | None = None
    streamed: bool = False
    client_disconnected: bool = False
    attempts: int = 0
    fallback_model: str | None = None
    data_class: str | None = None
    policy_version: str | None = None
    policy_decision: str | None = None
    entity_counts: dict[str, int] | None = field(default=None)
    cost_micro_eur: int | None = None
    price_version: str | None = None
    fx_rate: str | None = None
    """EUR per unit of the price's currency, as applied to this charge (None: priced in EUR)."""
    front_end_key_id: str | None = None
    """The chat front-end's key when it acted for ``user_id`` (``key_id`` is that key too)."""
    end_user_verified: bool | None = None
    """For a front-end's request: was the end user proven (token) or only named (headers)?"""
    use_case_flag: str | None = None
    """Why an allowed request is flagged by the register (``pilot``, ``unapproved_model``)."""

    def __post_init__(self) -> None:
        bound_values(self)

    def as_row(self) -> dict[str, Any]:
        """The record as a column → value mapping for the ``ledger`` table."""
        # Not dataclasses.asdict: it deep-copies every value, which showed up in profiles.
        return {name: getattr(self, name) for name in _FIELD_NAMES}


_FIELD_NAMES = tuple(f.name for f in fields(LedgerRecord))
