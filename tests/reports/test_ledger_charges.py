"""A ledger month as charge lines: hand-worked months, price changes, exact reconciliation."""

from __future__ import annotations

import csv
import io
import random
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from billing.money import ZERO, from_micros, to_cents
from billing.reports.chargeback import render_csv
from billing.reports.focus import focus_csv
from billing.reports.ledger_charges import (
    LedgerChargesError,
    MonthCharges,
    month_charges,
    parse_month,
)
from billing.reports.rows import TokenClass
from tests.billing.test_focus import assert_focus_conformant
from tests.reports.factories import (
    PARIS,
    ledger_cost,
    make_costing,
    make_directory,
    make_record,
    run,
    seed,
    seed_january,
    utc,
)

T = TypeVar("T")
JANUARY = parse_month("2026-01", PARIS)
MARCH = parse_month("2026-03", PARIS)
OCTOBER = parse_month("2026-10", PARIS)


def amounts(month: MonthCharges, department: str | None) -> dict[tuple[str, str | None], Decimal]:
    return {
        (str(line.token_class), line.model): line.amount
        for line in month.lines
        if line.department_id == department
    }


def test_january_with_two_departments_idle_capacity_and_dedicated_gpus(database_url: str) -> None:
    costing = make_costing()

    async def scenario(engine: Any) -> tuple[MonthCharges, int]:
        await seed_january(engine, costing)
        return await month_charges(engine, costing, JANUARY), await ledger_cost(
            engine, JANUARY.start, JANUARY.end
        )

    month, ledger_total = run(database_url, scenario)
    # Pool: 8 x 744 h x 2.30 = 13,689.60; radiologie's 2 GPUs: 3,422.40; shared: 10,267.20.
    # Transfers 2,875.00 + 1,725.00 = 4,600.00; idle 5,667.20 shared 4.5 : 2.7 = 5 : 3.
    assert month.ledger_cost_micros == month.usage_line_micros == ledger_total == 4_600_600_000
    assert (month.dedicated_requests, month.unpriced_requests) == (1, 1)
    [pool] = month.true_ups
    assert (pool.hours, pool.pool_cost_eur, pool.difference_eur) == (
        Decimal(744),
        Decimal("13689.60"),
        Decimal("5667.20"),
    )
    assert amounts(month, "cardiologie") == {
        ("input", "mistral-medium"): Decimal("0.320000"),
        ("cached_input", "mistral-medium"): Decimal("0.080000"),
        ("output", "mistral-medium"): Decimal("0.200000"),
        ("output", "mistral-small"): Decimal("2875.000000"),
        ("true_up", None): Decimal("3542.00"),
    }
    assert amounts(month, "urgences") == {
        ("output", "mistral-small"): Decimal("1725.000000"),
        ("true_up", None): Decimal("2125.20"),
    }
    assert amounts(month, "radiologie") == {("gpu_time", None): Decimal("3422.40")}

    totals = {d: month.statement(d).total for d in ("cardiologie", "urgences", "radiologie")}
    assert totals == {
        "cardiologie": Decimal("6417.60"),
        "urgences": Decimal("3850.20"),
        "radiologie": Decimal("3422.40"),
    }
    assert sum(totals.values()) == Decimal("13689.60") + Decimal("0.60")
    assert str(month.statement("cardiologie").lines[0].price_version).startswith("mistral-medium@")

    text = focus_csv(month.lines, costing.focus_account())
    assert_focus_conformant(text)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert sum(Decimal(r["BilledCost"]) for r in rows) == Decimal("13690.20")
    assert {r["SubAccountId"] for r in rows} == {"cardiologie", "urgences", "radiologie"}
    assert {r["x_HostingClass"] for r in rows} == {"on_premise", "eu_cloud"}
    transfer = next(r for r in rows if r["x_Model"] == "mistral-small")
    assert transfer["ProviderName"] == "CHU Exemple" and transfer["ResourceId"] == "ms-onprem"
    assert Decimal(transfer["x_GpuSeconds"]) == Decimal(2_250_000)  # 4.5e9 / 2,000


def test_unallocated_mode_shows_idle_capacity_on_its_own_line(database_url: str) -> None:
    costing = make_costing(true_up="unallocated")

    async def scenario(engine: Any) -> MonthCharges:
        await seed_january(engine, costing)
        return await month_charges(engine, costing, JANUARY)

    month = run(database_url, scenario)
    assert amounts(month, None) == {("true_up", None): Decimal("5667.20")}
    assert month.statement("cardiologie").total == Decimal("2875.60")
    assert month.statement("urgences").true_up_lines == ()
    assert_focus_conformant(focus_csv(month.lines, costing.focus_account()))


def test_a_price_change_mid_month_gives_one_line_per_version(database_url: str) -> None:
    # mistral-medium: 0.4 / 0.4 / 2 EUR per million until 15 March (Paris), then 0.5 / 0.1 / 2.5.
    costing = make_costing()

    async def scenario(engine: Any) -> tuple[MonthCharges, int]:
        depts, users = await make_directory(engine, {"cardiologie": ["alice"]})
        who: dict[str, Any] = {"department_id": depts["cardiologie"], "user_id": users["alice"]}
        big: dict[str, Any] = {
            "prompt_tokens": 1_000_000,
            "cached_tokens": 200_000,
            "completion_tokens": 100_000,
        }
        await seed(
            engine,
            [
                make_record(started_at=utc(2026, 3, 10), costing=costing, **who, **big),  # 600,000
                make_record(started_at=utc(2026, 3, 20), costing=costing, **who, **big),  # 670,000
                make_record(started_at=utc(2026, 3, 20), costing=costing, prompt_tokens=3,
                            completion_tokens=1, **who),  # 1.5 + 2.5 = 4 micro-euros
                # 0.5 micro-euro each, rounded half-even to 0 on the ledger:
                make_record(started_at=utc(2026, 3, 21), costing=costing, prompt_tokens=1, **who),
                make_record(started_at=utc(2026, 3, 22), costing=costing, prompt_tokens=1, **who),
                # A version no longer in the configuration: kept, at a blended unit price.
                make_record(started_at=utc(2026, 3, 23), prompt_tokens=1000, cost_micro_eur=1234,
                            price_version="mistral-medium@2025-06-01.retired", **who),
            ],
        )  # fmt: skip
        return await month_charges(engine, costing, MARCH), await ledger_cost(
            engine, MARCH.start, MARCH.end
        )

    month, ledger_total = run(database_url, scenario)
    assert month.ledger_cost_micros == month.usage_line_micros == ledger_total == 1_271_238
    assert month.unknown_versions == ("mistral-medium@2025-06-01.retired",)
    by_version: dict[str, dict[str, tuple[Decimal, Decimal]]] = {}
    for line in month.lines_for("cardiologie"):
        assert line.unit_price is not None and line.price_version is not None
        by_version.setdefault(line.price_version, {})[str(line.token_class)] = (
            line.unit_price,
            line.amount,
        )
    retired, v1, v2 = sorted(by_version)
    # Lines carry cents: the department's exact 1.271238 EUR rounded once (1.27) and spread
    # by largest remainder (v2's exact amounts were 0.400002 / 0.020000 / 0.250002).
    assert by_version[v1] == {
        "input": (Decimal("0.4"), Decimal("0.32")),
        "cached_input": (Decimal("0.4"), Decimal("0.08")),
        "output": (Decimal("2"), Decimal("0.20")),
    }
    assert by_version[v2] == {
        "input": (Decimal("0.5"), Decimal("0.40")),
        "cached_input": (Decimal("0.1"), Decimal("0.02")),
        "output": (Decimal("2.5"), Decimal("0.25")),
    }
    assert by_version[retired] == {"input": (Decimal("1.234000"), Decimal("0.00"))}

    statement = month.statement("cardiologie", budget=Decimal("2"))
    # Ordered by model, token class, then version (the retired one is the oldest id).
    assert [line.amount for line in statement.lines] == [
        Decimal(x) for x in ("0.00", "0.32", "0.40", "0.08", "0.02", "0.20", "0.25")
    ]
    assert statement.total == Decimal("1.27") and statement.variance == Decimal("0.73")
    assert "0.73" in render_csv(statement, "en") and "0,73" in render_csv(statement)
    assert_focus_conformant(focus_csv(month.lines, costing.focus_account()))


def test_random_october_reconciles_to_the_micro_euro_and_the_cent(database_url: str) -> None:
    # October 2026 in Paris has 745 hours: the pool costs 8 x 745 x 2.30 = 13,708.00.
    costing = make_costing()
    rng = random.Random(20261025)
    places = [
        ("mistral-medium", "mm-cloud"),
        ("gpt-4o-mini", "azure-4o"),
        ("mistral-small", "ms-onprem"),
        ("radio-llm", "radio-onprem"),
        ("old", "gone"),
    ]

    async def scenario(engine: Any) -> tuple[MonthCharges, int]:
        depts, users = await make_directory(
            engine, {"cardiologie": ["a1", "a2"], "urgences": ["b1"], "radiologie": ["c1"]}
        )
        rows = []
        for _ in range(150):
            dept, user = rng.choice(
                [
                    ("cardiologie", "a1"),
                    ("cardiologie", "a2"),
                    ("urgences", "b1"),
                    ("radiologie", "c1"),
                ]
            )
            model, deployment = rng.choice(places)
            prompt = rng.randint(0, 50_000)
            rows.append(
                make_record(
                    started_at=OCTOBER.start + timedelta(seconds=rng.randint(0, 745 * 3600 - 1)),
                    department_id=depts[dept],
                    user_id=users[user],
                    model=model,
                    deployment=deployment,
                    prompt_tokens=prompt,
                    cached_tokens=rng.randint(0, prompt),
                    completion_tokens=rng.randint(0, 5_000),
                    costing=costing,
                )
            )
        rows.append(make_record(started_at=OCTOBER.end, cost_micro_eur=999, price_version="v"))
        # A cost without tokens (never written by the gateway) must still reach the lines.
        rows.append(make_record(started_at=OCTOBER.start, cost_micro_eur=777, price_version="v"))
        await seed(engine, rows)
        return await month_charges(engine, costing, OCTOBER), await ledger_cost(
            engine, OCTOBER.start, OCTOBER.end
        )

    month, ledger_total = run(database_url, scenario)
    usage = [line for line in month.lines if line.token_class not in _POOL_CLASSES]
    assert month.usage_line_micros == ledger_total == month.ledger_cost_micros
    # One rounding: each department's lines add up to its exact ledger sum rounded once.
    by_department: dict[str | None, Decimal] = {}
    for line in usage:
        by_department[line.department_id] = by_department.get(line.department_id, ZERO) + (
            line.amount
        )
    assert sum(by_department.values(), ZERO) == sum(
        (to_cents(v) for v in _exact_by_department(month).values()), ZERO
    )
    assert month.unknown_versions == ("v",)
    [pool] = month.true_ups
    assert pool.pool_cost_eur == Decimal("13708.00") and pool.hours == 745
    statements = sum(
        (month.statement(d).total for d in ("cardiologie", "urgences", "radiologie")), ZERO
    )
    external = sum((to_cents(ln.amount) for ln in usage if ln.hosting_class != "on_premise"), ZERO)
    assert statements + pool.unallocated_eur == pool.pool_cost_eur + external
    assert_focus_conformant(focus_csv(month.lines, costing.focus_account()))


_POOL_CLASSES = {TokenClass.GPU_TIME, TokenClass.TRUE_UP}


def _exact_by_department(month: MonthCharges) -> dict[str, Decimal]:
    return {d: from_micros(m) for d, m in month.department_ledger_micros.items()}


def test_months_are_parsed_strictly() -> None:
    assert parse_month("2026-03", PARIS).start == utc(2026, 2, 28, 23)
    for bad in ("2026-13", "2026/03", "26-03", "march"):
        with pytest.raises(LedgerChargesError):
            parse_month(bad, PARIS)
