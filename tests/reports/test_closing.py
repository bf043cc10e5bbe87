"""Closed months: frozen byte for byte, corrections booked later, snapshots exact."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from billing.closing.closed_months import (
    MonthNotClosable,
    UnknownMonth,
    close_month,
    month_report,
)
from billing.closing.corrections import InvalidCorrection, book_correction
from billing.closing.snapshot import figures_used, from_snapshot, to_snapshot
from billing.pricing.costing import Costing
from billing.reports.chargeback import render_csv
from billing.reports.focus import focus_csv
from billing.reports.ledger_charges import MonthCharges, MonthStatus, parse_month
from billing.reports.statement_html import render_html
from gateway.api.reports import statement_as_dict
from tests.billing.test_focus import assert_focus_conformant
from tests.reports.factories import (
    PARIS,
    POOL,
    make_costing,
    make_directory,
    make_record,
    run,
    seed,
    utc,
)

T = TypeVar("T")
OCTOBER = parse_month("2026-10", PARIS)
NOVEMBER = parse_month("2026-11", PARIS)
AFTER_OCTOBER = utc(2026, 11, 3)
DEPARTMENTS = ("cardiologie", "urgences", "radiologie")


async def seed_october(engine: Any, costing: Costing) -> None:
    """Two departments on the shared GPUs, one external model priced in USD, one in EUR."""
    depts, users = await make_directory(
        engine, {"cardiologie": ["alice"], "urgences": ["carol"], "radiologie": ["rita"]}
    )

    def row(dept: str, user: str, **kwargs: Any) -> Any:
        return make_record(department_id=depts[dept], user_id=users[user], costing=costing,
                           **kwargs)  # fmt: skip

    onprem: dict[str, Any] = {"model": "mistral-small", "deployment": "ms-onprem"}
    usd: dict[str, Any] = {"model": "gpt-4o-mini", "deployment": "azure-4o"}
    await seed(
        engine,
        [
            row("cardiologie", "alice", started_at=utc(2026, 10, 5), completion_tokens=300_000,
                use_case="comptes-rendus", **onprem),
            row("urgences", "carol", started_at=utc(2026, 10, 6), completion_tokens=100_000,
                **onprem),
            row("cardiologie", "alice", started_at=utc(2026, 10, 7), prompt_tokens=1_234_567,
                completion_tokens=76_543, use_case="courriers", **usd),
            row("urgences", "carol", started_at=utc(2026, 10, 8), prompt_tokens=999_999,
                cached_tokens=333_333, completion_tokens=55_555),
        ],
    )  # fmt: skip


def documents(charges: MonthCharges, costing_account: Any) -> dict[str, str]:
    """Everything finance can download for the month, as text."""
    out = {"focus": focus_csv(charges.lines, costing_account, charges.status)}
    for department in DEPARTMENTS:
        statement = charges.statement(department, now=utc(2030, 1, 1))
        out[f"{department}.csv"] = render_csv(statement)
        out[f"{department}.en.csv"] = render_csv(statement, "en")
        out[f"{department}.html"] = render_html(statement)
        out[f"{department}.json"] = repr(statement_as_dict(statement))
    out["true_ups"] = repr(charges.true_ups)
    return out


def test_changing_any_figure_after_the_close_leaves_the_month_byte_for_byte_unchanged(
    database_url: str,
) -> None:
    before = make_costing(cost_centres={"cardiologie": "CC-4410"})
    # Every figure changed in place (no effective date): pool, weights and capacity, exchange
    # rate, external price, organisation, cost centres, true-up mode.
    after = make_costing(
        pools={"h100-a": {**POOL, "eur_per_kwh": "0.30", "hosting_eur_per_month": "9999"}},
        deployments={
            "ms-onprem": {"capacity": "1500", "target_utilisation": "0.4",
                          "weights": {"input": "2", "cached_input": "1", "output": "3"}},
            "radio-onprem": {"capacity": "2000", "target_utilisation": "0.5",
                             "dedicated_to": "radiologie"},
        },
        fx_to_eur={"USD": "0.99"},
        prices={"gpt-4o-mini": {"input": "9", "output": "9", "currency": "USD",
                                "effective_from": "2025-01-01"}},
        organisation={"name": "Autre", "billing_account_id": "autre"},
        cost_centres={"cardiologie": "CC-9999"},
        true_up="unallocated",
    )  # fmt: skip

    async def scenario(engine: Any) -> tuple[dict[str, str], dict[str, str], MonthCharges]:
        await seed_october(engine, before)
        closed = await close_month(
            engine, before, OCTOBER, now=AFTER_OCTOBER, closed_by="controleur"
        )
        first, account = await month_report(engine, before, OCTOBER, now=utc(2026, 12, 1))
        again, account_after = await month_report(engine, after, OCTOBER, now=utc(2027, 3, 1))
        open_now, _ = await month_report(engine, after, NOVEMBER, now=utc(2026, 11, 20))
        assert closed.status is MonthStatus.CLOSED and open_now.status is MonthStatus.PROVISIONAL
        return documents(first, account), documents(again, account_after), first

    first, again, charges = run(database_url, scenario)
    assert again == first
    assert "CC-4410" in first["cardiologie.html"] and "DÉFINITIF" in first["urgences.html"]
    assert "du 1er octobre 2026 au 31 octobre 2026" in first["urgences.html"]
    assert "tarif du 01/01/2025" in first["cardiologie.html"]  # local date of the USD price
    assert "0,1500\u00a0USD au taux de 0,92" in first["cardiologie.html"]
    assert_focus_conformant(first["focus"])
    rows = list(csv.DictReader(io.StringIO(first["focus"], newline="")))
    assert {row["x_ChargeStatus"] for row in rows} == {"closed"}
    assert {row["PricingCurrency"] for row in rows} == {"EUR", "USD"}
    assert charges.closed_at == AFTER_OCTOBER


def test_a_month_closes_once_and_only_when_it_is_over(sqlite_url: str) -> None:
    costing = make_costing()

    async def scenario(engine: Any) -> None:
        await seed_october(engine, costing)
        with pytest.raises(MonthNotClosable, match="not over"):
            await close_month(engine, costing, OCTOBER, now=utc(2026, 10, 20), closed_by="")
        await close_month(engine, costing, OCTOBER, now=AFTER_OCTOBER, closed_by="")
        # A request of October recorded after the close (a late spool) changes nothing in it,
        # but is reported so that finance can book a correction.
        [late] = await seed_late(engine, costing)
        closed, _ = await month_report(engine, costing, OCTOBER, now=utc(2026, 11, 5))
        assert closed.late_ledger_micros == late.cost_micro_eur > 0
        with pytest.raises(MonthNotClosable, match="already closed"):
            await close_month(engine, costing, OCTOBER, now=AFTER_OCTOBER, closed_by="")
        with pytest.raises(UnknownMonth):
            await month_report(engine, costing, NOVEMBER, now=utc(2026, 10, 20))

    run(sqlite_url, scenario)


async def seed_late(engine: Any, costing: Costing) -> list[Any]:
    record = make_record(
        started_at=utc(2026, 10, 31, 22, 30), prompt_tokens=1000, completion_tokens=10,
        costing=costing,
    )  # fmt: skip
    await seed(engine, [record])
    return [record]


def test_a_correction_is_a_dated_line_of_the_open_month_that_names_the_closed_one(
    sqlite_url: str,
) -> None:
    costing = make_costing()

    async def scenario(engine: Any) -> tuple[MonthCharges, MonthCharges, MonthCharges]:
        await seed_october(engine, costing)
        with pytest.raises(InvalidCorrection, match="not closed"):
            await book_correction(engine, corrects=OCTOBER, department="urgences",
                                  amount=Decimal("-1.50"), reason="x", now=AFTER_OCTOBER,
                                  tz=PARIS)  # fmt: skip
        before, _ = await month_report(engine, costing, OCTOBER, now=AFTER_OCTOBER)
        await close_month(engine, costing, OCTOBER, now=AFTER_OCTOBER, closed_by="")
        for bad in ({"department": "nobody"}, {"amount": Decimal("0.001")}, {"reason": " "}):
            values: dict[str, Any] = {"department": "urgences", "amount": Decimal("-1.50"),
                                      "reason": "double count", **bad}  # fmt: skip
            with pytest.raises(InvalidCorrection):
                await book_correction(engine, corrects=OCTOBER, now=utc(2026, 11, 10), tz=PARIS,
                                      **values)  # fmt: skip
        await book_correction(engine, corrects=OCTOBER, department="urgences",
                              amount=Decimal("-1.50"), reason="requests counted twice",
                              now=utc(2026, 11, 10), tz=PARIS)  # fmt: skip
        october, _ = await month_report(engine, costing, OCTOBER, now=utc(2026, 11, 20))
        november, _ = await month_report(engine, costing, NOVEMBER, now=utc(2026, 11, 20))
        return before, october, november

    before, october, november = run(sqlite_url, scenario)
    assert october.lines == before.lines  # the closed month is not rewritten
    statement = november.statement("urgences")
    assert statement.subtotal("corrections") == Decimal("-1.50")
    [line] = [ln for ln in november.lines if ln.corrects]
    assert line.corrects == "2026-10" and line.period_start == NOVEMBER.start
    text = focus_csv(november.lines, make_costing().focus_account())
    assert_focus_conformant(text)
    [row] = [r for r in csv.DictReader(io.StringIO(text)) if r["ChargeClass"] == "Correction"]
    assert row["x_CorrectedBillingPeriod"] == "2026-10"
    assert Decimal(row["BilledCost"]) == Decimal("-1.50")
    assert row["ChargeCategory"] == "Adjustment"
    assert "requests counted twice" in render_html(statement)


def test_a_snapshot_reads_back_exactly(sqlite_url: str) -> None:
    costing = make_costing()

    async def scenario(engine: Any) -> MonthCharges:
        await seed_october(engine, costing)
        charges, _ = await month_report(engine, costing, OCTOBER, now=AFTER_OCTOBER)
        return charges

    charges = run(sqlite_url, scenario)
    figures = figures_used(charges, costing)
    text = to_snapshot(charges, costing.focus_account(), figures)
    again, account = from_snapshot(text)
    assert again == charges and account == costing.focus_account()
    assert to_snapshot(again, account, figures) == text
    # The record keeps the figures used: the pool's parameters and the dollar rate.
    [pool] = figures["pools"].values()
    assert pool["eur_per_kwh"] == "0.20" and pool["gpu_count"] == 8
    assert figures["exchange_rates"] == [["USD", "0.92"]]


def test_a_month_in_progress_charges_only_the_capacity_elapsed(sqlite_url: str) -> None:
    # The reported defect: on 7 December a department already paid its share of the whole
    # month's pool cost. Now the open month's pool cost covers 1-7 December (144 hours).
    costing = make_costing()
    december = parse_month("2026-12", PARIS)
    seventh = december.start + (utc(2026, 12, 7) - utc(2026, 12, 1))

    async def scenario(engine: Any) -> MonthCharges:
        depts, users = await make_directory(engine, {"urgences": ["carol"]})
        await seed(engine, [make_record(
            started_at=utc(2026, 12, 2), department_id=depts["urgences"],
            user_id=users["carol"], model="mistral-small", deployment="ms-onprem",
            completion_tokens=100_000, costing=costing)])  # fmt: skip
        charges, _ = await month_report(engine, costing, december, now=seventh)
        return charges

    charges = run(sqlite_url, scenario)
    [pool] = charges.true_ups
    assert pool.hours == 144 and pool.pool_cost_eur == Decimal("2649.60")  # 8 x 144 x 2.30
    statement = charges.statement("urgences", now=seventh)
    assert statement.status == "provisional"
    # 2 GPUs dedicated to radiologie: 6/8 of the cost to date is shared, urgences uses it alone.
    assert statement.total == Decimal("1987.20")
