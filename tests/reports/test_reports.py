"""Usage reports against a seeded ledger, on SQLite and PostgreSQL: sums, Paris days, DST."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from billing.reports.date_range import DateRange, ReportError
from billing.reports.report import (
    Dimension,
    UnknownDepartment,
    forecast,
    parse_group_by,
    top_consumers,
    usage_report,
)
from billing.reports.usage_csv import usage_csv
from tests.reports.factories import (
    PARIS,
    ledger_cost,
    make_directory,
    make_record,
    run,
    seed,
    utc,
)

T = TypeVar("T")
MARCH = DateRange(date(2026, 3, 1), date(2026, 3, 31), PARIS)
VIEW = {"mm-cloud": ("mistral", "eu_cloud"), "ms-onprem": ("CHU Exemple", "on_premise")}


async def seed_march(engine: Any) -> dict[str, int]:
    """Rows around the 29 March 2026 DST change (Paris goes from UTC+1 to UTC+2 at 01:00 UTC)."""
    depts, users = await make_directory(
        engine, {"cardiologie": ["alice", "bob"], "urgences": ["carol"]}
    )
    cardio, urg = depts["cardiologie"], depts["urgences"]
    alice, bob, carol = users["alice"], users["bob"], users["carol"]
    rows = [
        # 23:30 on 28 Feb in Paris: February.
        make_record(started_at=utc(2026, 2, 28, 22, 30), department_id=cardio, user_id=alice,
                    cost_micro_eur=7_000_000, price_version="v1"),
        # Paris midnight, 1 March: March.
        make_record(started_at=utc(2026, 2, 28, 23, 0), department_id=cardio, user_id=alice,
                    prompt_tokens=3, cost_micro_eur=1, price_version="v1", use_case="notes"),
        # 23:30 CET on 28 March.
        make_record(started_at=utc(2026, 3, 28, 22, 30), department_id=cardio, user_id=alice,
                    prompt_tokens=100, completion_tokens=10, cached_tokens=20,
                    cost_micro_eur=1_000_000, price_version="v1", use_case="notes"),
        # 00:30 CET on 29 March: the next Paris day although the same UTC day.
        make_record(started_at=utc(2026, 3, 28, 23, 30), department_id=cardio, user_id=bob,
                    prompt_tokens=200, completion_tokens=20, cost_micro_eur=2_000_000,
                    price_version="v1", use_case="=cmd"),
        # 03:30 CEST on 29 March, on premise.
        make_record(started_at=utc(2026, 3, 29, 1, 30), department_id=urg, user_id=carol,
                    model="mistral-small", deployment="ms-onprem", prompt_tokens=1000,
                    completion_tokens=100, cost_micro_eur=500_000, price_version="onprem:x"),
        # 23:59 CEST on 29 March, a failed request.
        make_record(started_at=utc(2026, 3, 29, 21, 59), department_id=cardio, user_id=alice,
                    prompt_tokens=5, cost_micro_eur=250_000, price_version="v1", status_code=502),
        # Midnight CEST, 30 March: an unpriced request on a deployment no longer configured.
        make_record(started_at=utc(2026, 3, 29, 22, 0), department_id=urg, user_id=carol,
                    model="old", deployment="gone", prompt_tokens=7, cost_micro_eur=0,
                    price_version="unpriced"),
        # 00:30 CEST on 1 April: April.
        make_record(started_at=utc(2026, 3, 31, 22, 30), department_id=urg, user_id=carol,
                    cost_micro_eur=9_000_000, price_version="v1"),
    ]  # fmt: skip
    await seed(engine, rows)
    return depts


def test_days_are_paris_days_and_the_report_adds_up_to_the_ledger(database_url: str) -> None:
    async def scenario(engine: Any) -> Any:
        await seed_march(engine)
        report = await usage_report(engine, period=MARCH, group_by=[Dimension.DAY])
        ledger_total = await ledger_cost(engine, MARCH.start, MARCH.end)
        return report, ledger_total

    report, ledger_total = run(database_url, scenario)
    days = {b.key["day"]: b.figures for b in report.buckets}
    assert list(days) == ["2026-03-01", "2026-03-28", "2026-03-29", "2026-03-30"]
    assert days["2026-03-01"].cost_eur == Decimal("0.000001")
    assert days["2026-03-28"].cost_eur == Decimal("1.000000")
    dst_day = days["2026-03-29"]  # 23 hours long in Paris
    assert (dst_day.requests, dst_day.failed_requests, dst_day.active_users) == (3, 1, 3)
    assert dst_day.cost_eur == Decimal("2.750000")
    assert dst_day.prompt_tokens == 1205 and dst_day.completion_tokens == 120
    assert dst_day.cost_per_request == Decimal("0.916667")  # 2.75 / 3, half-even
    assert days["2026-03-30"].unpriced_requests == 1
    assert report.total.cost_micro_eur == ledger_total == 3_750_001
    assert sum(b.figures.cost_micro_eur for b in report.buckets) == ledger_total
    assert report.total.requests == 6 and report.total.active_users == 3
    assert report.total.cached_tokens == 20


def test_dimensions_split_filter_and_top_consumers(database_url: str) -> None:
    async def scenario(engine: Any) -> Any:
        await seed_march(engine)
        spring = DateRange(date(2026, 2, 1), date(2026, 4, 30), PARIS)
        by_month = await usage_report(engine, period=spring, group_by=[Dimension.MONTH])
        by_dept_model = await usage_report(
            engine,
            period=MARCH,
            group_by=parse_group_by("department,model"),
            deployments=VIEW,
        )
        by_where = await usage_report(
            engine,
            period=MARCH,
            group_by=parse_group_by("provider,hosting_class"),
            deployments=VIEW,
        )
        urgences = await usage_report(
            engine, period=MARCH, group_by=[Dimension.USER], department="urgences"
        )
        top = await top_consumers(engine, period=MARCH, by=Dimension.USER, limit=2)
        top_cases = await top_consumers(engine, period=MARCH, by=Dimension.USE_CASE)
        with pytest.raises(UnknownDepartment):
            await usage_report(engine, period=MARCH, department="pharmacie")
        return by_month, by_dept_model, by_where, urgences, top, top_cases

    by_month, by_dept_model, by_where, urgences, top, top_cases = run(database_url, scenario)
    assert [(b.key["month"], b.figures.cost_micro_eur) for b in by_month.buckets] == [
        ("2026-02", 7_000_000),
        ("2026-03", 3_750_001),
        ("2026-04", 9_000_000),
    ]
    assert {
        (b.key["department"], b.key["model"]): b.figures.cost_eur for b in by_dept_model.buckets
    } == {
        ("cardiologie", "mistral-medium"): Decimal("3.250001"),
        ("urgences", "mistral-small"): Decimal("0.500000"),
        ("urgences", "old"): Decimal("0.000000"),
    }
    cardio = by_dept_model.buckets[0].figures
    # 3.250001 / 2 = 1.6250005: a tie, rounded half-even to 1.625000.
    assert cardio.active_users == 2 and cardio.cost_per_active_user == Decimal("1.625000")
    assert {
        (b.key["provider"], b.key["hosting_class"]): b.figures.requests for b in by_where.buckets
    } == {
        ("CHU Exemple", "on_premise"): 1,
        ("mistral", "eu_cloud"): 4,
        ("unknown", "unknown"): 1,
    }
    split = by_where.split
    assert split["on_premise"].cost_eur == Decimal("0.500000")
    assert split["external"].cost_eur == Decimal("3.250001")
    assert split["other"].requests == 1
    assert [(b.key["user"], b.figures.cost_micro_eur) for b in urgences.buckets] == [
        ("carol", 500_000)
    ]
    assert [(b.key["user"], b.figures.cost_micro_eur) for b in top] == [
        ("bob", 2_000_000),
        ("alice", 1_250_001),
    ]
    assert [b.key["use_case"] for b in top_cases] == ["=cmd", "notes", "(none)"]

    rows = list(csv.DictReader(io.StringIO(usage_csv(by_dept_model), newline="")))
    *buckets, total, note = rows
    assert total["row_type"] == "total" and total["cost_eur"] == "3.750001"
    assert sum(Decimal(r["cost_eur"]) for r in buckets) == Decimal(total["cost_eur"])
    # The report says what its cost covers (the GPU true-up is only on the statements).
    assert note["row_type"] == "note" and "true-up" in note["requests"]
    assert "true-up" in by_dept_model.as_dict()["cost_covers"]


def test_october_25_hour_day_is_one_paris_day(database_url: str) -> None:
    # Paris goes back from UTC+2 to UTC+1 at 01:00 UTC on 25 October 2026.
    async def scenario(engine: Any) -> Any:
        depts, users = await make_directory(engine, {"urgences": ["dan"]})
        common: dict[str, Any] = {
            "department_id": depts["urgences"],
            "user_id": users["dan"],
            "price_version": "v",
        }
        await seed(
            engine,
            [
                make_record(started_at=utc(2026, 10, 24, 21, 59), cost_micro_eur=1, **common),
                make_record(started_at=utc(2026, 10, 24, 22, 0), cost_micro_eur=10, **common),
                make_record(started_at=utc(2026, 10, 25, 0, 30), cost_micro_eur=100, **common),
                make_record(started_at=utc(2026, 10, 25, 1, 30), cost_micro_eur=1000, **common),
                make_record(started_at=utc(2026, 10, 25, 22, 59), cost_micro_eur=10_000, **common),
                make_record(started_at=utc(2026, 10, 25, 23, 0), cost_micro_eur=100_000, **common),
            ],
        )
        october = DateRange.month_of(utc(2026, 10, 15), PARIS)
        return await usage_report(engine, period=october, group_by=parse_group_by("department,day"))

    report = run(database_url, scenario)
    assert [
        (b.key["department"], b.key["day"], b.figures.cost_micro_eur) for b in report.buckets
    ] == [
        ("urgences", "2026-10-24", 1),
        ("urgences", "2026-10-25", 11_110),
        ("urgences", "2026-10-26", 100_000),
    ]
    assert report.period.end - report.period.start == (utc(2026, 10, 31, 23) - utc(2026, 9, 30, 22))


def test_forecast_is_linear_and_compares_with_the_budget() -> None:
    # 10 of March's 30 days and 23 hours have passed (240 of 743 hours).
    now = datetime(2026, 3, 11, tzinfo=PARIS)
    result = forecast(Decimal("3.750001"), MARCH, now, Decimal("100"))
    assert result.elapsed_fraction == Decimal(240) / Decimal(743)
    assert result.forecast_eur == Decimal("11.61")  # 3.750001 x 743 / 240 = 11.6094
    assert result.budget_consumed_pct == Decimal("3.75")
    assert result.forecast_budget_pct == Decimal("11.61")
    before = forecast(Decimal(0), MARCH, datetime(2026, 2, 1, tzinfo=PARIS))
    assert before.forecast_eur is None and before.budget_consumed_pct is None
    after = forecast(Decimal("5"), MARCH, datetime(2026, 5, 1, tzinfo=PARIS))
    assert after.forecast_eur == Decimal("5.00") and after.elapsed_fraction == 1


def test_periods_and_dimensions_are_validated() -> None:
    with pytest.raises(ReportError):
        parse_group_by("department,weather")
    with pytest.raises(ReportError):
        parse_group_by("day,day")
    with pytest.raises(ReportError):
        DateRange(date(2026, 3, 2), date(2026, 3, 1))
    default = DateRange.parse(None, None, tz=PARIS, now=utc(2026, 2, 28, 23, 30))
    assert (default.first, default.last) == (date(2026, 3, 1), date(2026, 3, 31))
    assert MARCH.start == utc(2026, 2, 28, 23) and MARCH.end == utc(2026, 3, 31, 22)
