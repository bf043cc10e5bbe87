"""One rounding everywhere: statement = FOCUS = usage report = the ledger rounded once.

Random months, prices, pool figures and traffic (hypothesis, bounded); per department and for
the pool, every document gives the same cents.
"""

from __future__ import annotations

import asyncio
import csv
import io
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.db.database import make_engine
from billing.db.schema import metadata
from billing.money import ZERO, from_micros, to_cents
from billing.periods import month_period
from billing.reports.date_range import DateRange
from billing.reports.focus import focus_csv
from billing.reports.ledger_charges import month_charges
from billing.reports.report import Dimension, usage_report
from tests.reports.factories import (
    PARIS,
    POOL,
    make_costing,
    make_directory,
    make_record,
    seed,
)

PLACES = (
    ("mistral-medium", "mm-cloud"),
    ("gpt-4o-mini", "azure-4o"),
    ("mistral-small", "ms-onprem"),
    ("radio-llm", "radio-onprem"),
)
DEPARTMENTS = ("cardiologie", "urgences", "radiologie")

prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("30"), places=4)
request = st.tuples(
    st.sampled_from(DEPARTMENTS),
    st.sampled_from(PLACES),
    st.integers(min_value=0, max_value=2_000_000),  # prompt tokens
    st.integers(min_value=0, max_value=100),  # cached, % of the prompt
    st.integers(min_value=0, max_value=500_000),  # completion tokens
    st.floats(min_value=0, max_value=0.999),  # when in the month
)


async def _scenario(
    month: tuple[int, int],
    price: tuple[Decimal, Decimal],
    fx: Decimal,
    kwh: Decimal,
    mode: str,
    traffic: list[Any],
) -> None:
    costing = make_costing(
        pools={"h100-a": {**POOL, "eur_per_kwh": str(kwh)}},
        fx_to_eur={"USD": str(fx)},
        prices={
            "mistral-medium": {"input": str(price[0]), "output": str(price[1]),
                               "effective_from": "2020-01-01"},
            "gpt-4o-mini": {"input": str(price[1]), "output": str(price[0]), "currency": "USD",
                            "effective_from": "2020-01-01"},
        },
        true_up=mode,
    )  # fmt: skip
    period = month_period(*month, PARIS)
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite+aiosqlite:///{Path(folder) / 'ledger.db'}")
        try:
            async with engine.begin() as connection:
                await connection.run_sync(metadata.create_all)
            depts, users = await make_directory(engine, {d: [f"{d}-user"] for d in DEPARTMENTS})
            length = (period.end - period.start).total_seconds()
            await seed(
                engine,
                [
                    make_record(
                        started_at=period.start + timedelta(seconds=int(when * length)),
                        department_id=depts[dept],
                        user_id=users[f"{dept}-user"],
                        model=model,
                        deployment=deployment,
                        prompt_tokens=prompt,
                        cached_tokens=prompt * cached // 100,
                        completion_tokens=completion,
                        costing=costing,
                    )
                    for dept, (model, deployment), prompt, cached, completion, when in traffic
                ],
            )
            charges = await month_charges(engine, costing, period)
            last = (period.end.astimezone(PARIS) - timedelta(days=1)).date()
            first = period.start.astimezone(PARIS).date()
            report = await usage_report(
                engine,
                period=DateRange(first, last, PARIS),
                group_by=(Dimension.DEPARTMENT,),
                deployments=costing.deployment_view(),
            )
        finally:
            await engine.dispose()

    focus = list(csv.DictReader(io.StringIO(focus_csv(charges.lines, costing.focus_account()))))
    reported = {b.key["department"]: b.figures.cost_eur for b in report.buckets}
    pool_lines = ZERO
    for dept in DEPARTMENTS:
        statement = charges.statement(dept)
        ledger = from_micros(charges.department_ledger_micros.get(dept, 0))
        usage = statement.subtotal("external") + statement.subtotal("onprem")
        # The ledger rounded once = the statement's usage = the usage report's cost.
        assert usage == to_cents(ledger) == to_cents(reported.get(dept, ZERO)), dept
        # The statement = its FOCUS rows, to the cent.
        billed = sum((Decimal(r["BilledCost"]) for r in focus if r["SubAccountId"] == dept), ZERO)
        assert statement.total == billed, dept
        assert statement.total == sum((line.amount for line in statement.lines), ZERO)
        pool_lines += (
            statement.subtotal("onprem")
            + statement.subtotal("dedicated")
            + statement.subtotal("true_up")
        )
    [pool] = charges.true_ups
    assert pool_lines + pool.unallocated_eur == pool.pool_cost_eur
    unallocated = sum((Decimal(r["BilledCost"]) for r in focus if not r["SubAccountId"]), ZERO)
    assert unallocated == pool.unallocated_eur
    assert (
        sum((Decimal(r["BilledCost"]) for r in focus), ZERO)
        == sum((charges.statement(d).total for d in DEPARTMENTS), ZERO) + pool.unallocated_eur
    )


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    month=st.tuples(st.integers(min_value=2025, max_value=2027), st.integers(1, 12)),
    price=st.tuples(prices, prices),
    fx=st.decimals(min_value=Decimal("0.5"), max_value=Decimal("1.5"), places=4),
    kwh=st.decimals(min_value=Decimal("0.05"), max_value=Decimal("0.40"), places=3),
    mode=st.sampled_from(["share", "unallocated"]),
    traffic=st.lists(request, min_size=0, max_size=25),
)
def test_statement_focus_usage_report_and_ledger_agree_to_the_cent(
    month: tuple[int, int],
    price: tuple[Decimal, Decimal],
    fx: Decimal,
    kwh: Decimal,
    mode: str,
    traffic: list[Any],
) -> None:
    asyncio.run(_scenario(month, price, fx, kwh, mode, traffic))
