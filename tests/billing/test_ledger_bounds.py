"""Every ledger value fits its column, whatever characters and sizes it arrives with."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from billing.db.schema import ledger
from billing.ledger.bounds import ELLIPSIS, bounded_text
from billing.ledger.record import LedgerRecord

ANY_CHARACTER = st.characters(exclude_categories=[])  # lone surrogates and controls included


@settings(max_examples=300, deadline=None)
@given(st.text(ANY_CHARACTER), st.integers(min_value=1, max_value=300))
def test_bounded_text_fits_and_keeps_what_already_fits(value: str, limit: int) -> None:
    bounded = bounded_text(value, limit)
    assert len(bounded) <= limit
    assert bounded.isprintable()
    assert isinstance(bounded.encode("utf-8"), bytes)  # no lone surrogate: it can be stored
    if len(value) <= limit and value.isprintable():
        assert bounded == value
    if len(value) > limit:
        assert bounded.endswith(ELLIPSIS)


@settings(max_examples=100, deadline=None)
@given(
    model=st.text(ANY_CHARACTER, max_size=600),
    tokens=st.integers(min_value=-(2**80), max_value=2**80),
    cost=st.integers(min_value=-(2**80), max_value=2**80),
)
def test_a_record_is_built_within_its_columns(model: str, tokens: int, cost: int) -> None:
    now = datetime.now(UTC)
    record = LedgerRecord(
        request_id="req_1",
        started_at=now,
        finished_at=now,
        endpoint="chat",
        status_code=200,
        latency_ms=1.0,
        model=model,
        error_class=model,
        fallback_model=model,
        prompt_tokens=tokens,
        completion_tokens=tokens,
        cost_micro_eur=cost,
    )
    for column in ("model", "error_class", "fallback_model"):
        value = getattr(record, column)
        length = getattr(ledger.c[column].type, "length", None)  # a String column
        assert isinstance(length, int) and len(value) <= length
        assert value.isprintable()
    assert 0 <= record.prompt_tokens < 2**31 and 0 <= record.completion_tokens < 2**31
    assert record.cost_micro_eur is not None and -(2**63) <= record.cost_micro_eur < 2**63
