"""Random ledger records for the rollup tests: seeded, and crowded around the days where a
report can go wrong (local midnights at month ends, the two DST changes of Europe/Paris)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from billing.ledger.record import LedgerRecord
from billing.pricing.costing import UNPRICED_VERSION, Costing
from tests.reports.factories import PARIS, make_record

BOUNDARY_DAYS = (
    date(2026, 2, 1),
    date(2026, 3, 1),
    date(2026, 3, 29),  # 23-hour day
    date(2026, 3, 30),
    date(2026, 4, 1),
    date(2026, 10, 25),  # 25-hour day
    date(2026, 10, 26),
    date(2026, 11, 1),
)
ROUTES = (
    ("mistral-small", "ms-onprem"),  # on premise, shared pool
    ("radio-llm", "radio-onprem"),  # on premise, dedicated: costs nothing per request
    ("mistral-medium", "mm-cloud"),  # external, EUR, price change on 15 March
    ("gpt-4o-mini", "azure-4o"),  # external, USD
    ("old-model", "gone"),  # no longer in the catalog: unpriced
    (None, None),  # refused before any routing
)


def _instant(rng: random.Random) -> datetime:
    if rng.random() < 0.6:
        # Within three hours of a local midnight that starts a month or a DST day.
        midnight = datetime.combine(rng.choice(BOUNDARY_DAYS), datetime.min.time(), PARIS)
        offset = timedelta(seconds=rng.randint(-3 * 3600, 3 * 3600 - 1))
        return (midnight.astimezone(UTC) + offset).replace(microsecond=rng.randint(0, 999_999))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return start + timedelta(seconds=rng.randint(0, 330 * 86400))


def random_records(
    rng: random.Random, count: int, *, costing: Costing, departments: dict[str, int],
    users: dict[str, list[int]],
) -> list[LedgerRecord]:  # fmt: skip
    """``count`` records: priced by ``costing`` as the gateway prices them, with refusals
    (403, 429: no tokens, no cost), errors, unpriced and free requests, and rows without a
    department or user."""
    records = []
    names = sorted(departments)
    for _ in range(count):
        dept = rng.choice([*names, None])
        user = rng.choice(users[dept]) if dept is not None and rng.random() < 0.9 else None
        model, deployment = rng.choice(ROUTES)
        status = rng.choice((200, 200, 200, 200, 403, 429, 500, 502))
        refused = status in (403, 429) or model is None
        tokens: dict[str, Any] = {}
        if not refused:
            prompt = rng.choice((0, 1, rng.randint(1, 5000), rng.randint(10_000, 3_000_000)))
            tokens = {
                "prompt_tokens": prompt,
                "completion_tokens": rng.choice((0, rng.randint(1, 2000))),
                # Sometimes more cached tokens than prompt tokens: capped when priced.
                "cached_tokens": rng.choice((0, prompt // 3, prompt + 7)),
            }
        record = make_record(
            started_at=_instant(rng),
            department_id=None if dept is None else departments[dept],
            user_id=user,
            model=model,
            deployment=deployment,
            status_code=status,
            use_case=rng.choice((None, "", "notes", "courriers", "<script>")),
            costing=None if refused else costing,
            **tokens,
        )
        if refused:
            record.cost_micro_eur = 0 if rng.random() < 0.5 else None
            record.price_version = None if record.cost_micro_eur is None else UNPRICED_VERSION
        record.latency_ms = rng.uniform(1, 30_000)
        record.ttft_ms = rng.choice((None, rng.uniform(1, 2000)))
        record.tokens_estimated = rng.random() < 0.1
        record.streamed = rng.random() < 0.5
        record.policy_decision = rng.choice(("allow", "deny", None))
        records.append(record)
    return records
