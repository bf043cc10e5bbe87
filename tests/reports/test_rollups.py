"""Daily rollups: written with the ledger, and every report read from them equals the same
report computed by scanning the ledger, to the micro-euro, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from billing.db.schema import ledger, ledger_daily, ledger_monthly, ledger_rollup_zone
from billing.ledger.journal import Journal
from billing.ledger.record import LedgerRecord
from billing.ledger.repository import check_reachable, insert_records
from billing.ledger.rollups import SUMS, ensure_rollups, rebuild_rollups, rollup_zone
from billing.ledger.writer import LedgerWriter
from billing.periods import month_period
from billing.reports.date_range import DateRange
from billing.reports.ledger_charges import ledger_total_micros, month_charges
from billing.reports.report import Dimension, usage_report
from gateway.cli.report import report_app
from tests.reports.factories import PARIS, make_costing, make_directory, make_record, run, utc
from tests.reports.rollup_factories import random_records

NEW_YORK = ZoneInfo("America/New_York")
VIEW = {
    "ms-onprem": ("CHU Exemple", "on_premise"),
    "radio-onprem": ("CHU Exemple", "on_premise"),
    "mm-cloud": ("mistral", "eu_cloud"),
    "azure-4o": ("azure", "non_eu"),
}
GROUPINGS: tuple[tuple[Dimension, ...], ...] = (
    (),
    *((d,) for d in Dimension),
    (Dimension.DEPARTMENT, Dimension.DAY),
    (Dimension.MODEL, Dimension.MONTH, Dimension.USER),
    (Dimension.HOSTING_CLASS, Dimension.USE_CASE),
)
NOW = datetime(2026, 11, 20, tzinfo=UTC)


async def _write_through_writer(
    engine: AsyncEngine, records: Sequence[LedgerRecord], journal: Path
) -> None:
    """Records stored as the gateway stores them: journaled, then inserted in small batches,
    some of them submitted twice (a replay)."""
    writer = LedgerWriter(
        lambda batch: insert_records(engine, batch),
        Journal(journal),
        flush_interval_s=0.005,
        batch_size=23,
    )
    await writer.start()
    for index, record in enumerate(records):
        writer.submit(record)
        if index % 17 == 0:
            writer.submit(records[index // 2])
    await writer.close()


async def _seed_random(engine: AsyncEngine, journal: Path, seed: int, count: int) -> None:
    depts, users = await make_directory(
        engine,
        {
            "cardiologie": ["alice", "bob"],
            "urgences": ["carol"],
            "radiologie": ["rita", "raoul"],
        },
    )
    members = {
        "cardiologie": [users["alice"], users["bob"]],
        "urgences": [users["carol"]],
        "radiologie": [users["rita"], users["raoul"]],
    }
    rng = random.Random(seed)
    records = random_records(rng, count, costing=make_costing(), departments=depts, users=members)
    await _write_through_writer(engine, records, journal)


async def _reports_agree(engine: AsyncEngine, tz: ZoneInfo = PARIS) -> int:
    """Every usage report and month's charges, from the rollups and from a ledger scan; returns
    how many figures were compared."""
    periods = [DateRange(date(2026, 1, 1), date(2026, 12, 31), tz)]
    periods += [DateRange(date(2026, 3, 29), date(2026, 3, 29), tz)]  # the 23-hour day
    periods += [DateRange(date(2026, 10, 25), date(2026, 10, 26), tz)]  # the 25-hour day
    periods += [DateRange.month_of(datetime(2026, m, 15, tzinfo=tz), tz) for m in (2, 3, 10)]
    short = ((), (Dimension.DAY,), (Dimension.DEPARTMENT, Dimension.DAY), (Dimension.USER,))
    cases = [(periods[0], dims, dept) for dims in GROUPINGS for dept in (None, "cardiologie")]
    cases += [(period, dims, None) for period in periods[1:] for dims in short]
    compared = 0
    for period, dims, department in cases:
        args: dict[str, Any] = {
            "period": period,
            "group_by": dims,
            "department": department,
            "deployments": VIEW,
            "now": NOW,
        }
        fast = await usage_report(engine, **args)
        slow = await usage_report(engine, use_rollups=False, **args)
        assert fast.as_dict() == slow.as_dict(), (period, dims, department)
        compared += len(fast.buckets) + 1
    costing = make_costing()
    for month in range(1, 12):
        calendar = month_period(2026, month, PARIS)
        fast_charges = await month_charges(engine, costing, calendar, until=NOW)
        slow_charges = await month_charges(engine, costing, calendar, until=NOW, use_rollups=False)
        assert fast_charges == slow_charges, calendar.key
        assert await ledger_total_micros(engine, calendar, PARIS) == await ledger_total_micros(
            engine, calendar
        )
        compared += len(fast_charges.lines) + 1
    return compared


async def _rollup_rows(engine: AsyncEngine) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Both rollup levels, row by row (float latency sums to the microsecond)."""
    async with engine.connect() as connection:
        rows = list((await connection.execute(select(ledger_daily))).all())
        rows += (await connection.execute(select(ledger_monthly))).all()
    exact = [name for name in SUMS if not name.endswith("_sum")]
    return {
        (getattr(row, "day", None) or row.month, row.group_key): (
            *(getattr(row, name) for name in exact),
            round(row.latency_ms_sum, 3),
            round(row.ttft_ms_sum, 3),
        )
        for row in rows
    }


@pytest.mark.parametrize("seed", [14, 2026])
def test_rollup_reports_equal_ledger_scans(database_url: str, tmp_path: Path, seed: int) -> None:
    async def scenario(engine: AsyncEngine) -> None:
        await _seed_random(engine, tmp_path / "journal", seed, 600)
        async with engine.connect() as connection:
            assert await rollup_zone(connection) == "Europe/Paris"
            requests = select(func.sum(ledger_daily.c.requests))
            assert (await connection.execute(requests)).scalar_one() == (
                await connection.execute(select(func.count()).select_from(ledger))
            ).scalar_one()
        assert await _reports_agree(engine) > 1000
        # What the writer built batch by batch is what a rebuild computes from the ledger.
        built = await _rollup_rows(engine)
        rebuilt = await rebuild_rollups(engine, PARIS)
        assert rebuilt.rows == sum(isinstance(period, date) for period, _ in built)
        assert await _rollup_rows(engine) == built
        assert await rebuild_rollups(engine, PARIS) == rebuilt  # idempotent

    run(database_url, scenario)


def test_reports_read_the_rollups(database_url: str) -> None:
    """Proof that the rollups answer: a rollup altered behind the ledger's back shows."""

    async def scenario(engine: AsyncEngine) -> list[str]:
        depts, users = await make_directory(engine, {"cardiologie": ["alice"]})
        record = make_record(
            started_at=utc(2026, 3, 10),
            department_id=depts["cardiologie"],
            user_id=users["alice"],
            cost_micro_eur=1_500_000,
            price_version="v1",
        )
        await insert_records(engine, [record])
        async with engine.begin() as connection:
            await connection.execute(update(ledger_daily).values(cost_micro_eur=2_500_000))
            await connection.execute(update(ledger_monthly).values(cost_micro_eur=3_500_000))
        figures = []
        for period in (
            DateRange(date(2026, 3, 10), date(2026, 3, 10), PARIS),  # a day: daily rollups
            DateRange(date(2026, 3, 1), date(2026, 3, 31), PARIS),  # a month: monthly rollups
        ):
            for rollups in (True, False):
                report = await usage_report(engine, period=period, now=NOW, use_rollups=rollups)
                figures.append(report.as_dict()["total"]["cost_eur"])
        return figures

    assert run(database_url, scenario) == ["2.500000", "1.500000", "3.500000", "1.500000"]


def test_a_record_inserted_twice_is_counted_once(database_url: str) -> None:
    async def scenario(engine: AsyncEngine) -> tuple[int, int, int]:
        first = make_record(started_at=utc(2026, 5, 2), prompt_tokens=10, cost_micro_eur=7)
        twin = make_record(started_at=utc(2026, 5, 2), prompt_tokens=99, cost_micro_eur=1000)
        twin.request_id = first.request_id
        await insert_records(engine, [first, twin])  # the same request id twice in one batch
        await insert_records(engine, [first])  # a replayed batch
        async with engine.connect() as connection:
            row = (await connection.execute(select(ledger_daily))).one()
        return row.requests, row.prompt_tokens, row.cost_micro_eur

    assert run(database_url, scenario) == (1, 10, 7)


def test_days_are_the_organisations(database_url: str) -> None:
    """22:30 UTC on 31 March is 1 April in Paris (summer time), 18:30 on 31 March in New York."""

    async def scenario(engine: AsyncEngine) -> tuple[list[date], list[date]]:
        await insert_records(engine, [make_record(started_at=utc(2026, 3, 31, 22, 30))])
        days = select(ledger_daily.c.day)
        async with engine.connect() as connection:
            paris = list((await connection.execute(days)).scalars())
        await ensure_rollups(engine, NEW_YORK)
        async with engine.connect() as connection:
            new_york = list((await connection.execute(days)).scalars())
        return paris, new_york

    assert run(database_url, scenario) == ([date(2026, 4, 1)], [date(2026, 3, 31)])


def test_a_zone_change_rebuilds_and_reports_stay_right(database_url: str, tmp_path: Path) -> None:
    async def scenario(engine: AsyncEngine) -> None:
        await _seed_random(engine, tmp_path / "journal", 7, 250)
        # Asked in another zone than the rollups', reports scan the ledger: still right.
        await _reports_agree(engine, NEW_YORK)
        assert (await ensure_rollups(engine, NEW_YORK)) is not None
        assert await ensure_rollups(engine, NEW_YORK) is None  # already kept in New York
        await insert_records(engine, [make_record(started_at=utc(2026, 6, 1), cost_micro_eur=3)])
        await _reports_agree(engine, NEW_YORK)
        await _reports_agree(engine, PARIS)

    run(database_url, scenario)


def test_an_existing_ledger_is_backfilled(database_url: str, tmp_path: Path) -> None:
    """A ledger filled before the rollups existed (no zone recorded): nothing is rolled up,
    reports scan; the rebuild at start makes the rollups, and reports agree."""

    async def scenario(engine: AsyncEngine) -> tuple[Any, int]:
        async with engine.begin() as connection:
            await connection.execute(delete(ledger_rollup_zone))
        await _seed_random(engine, tmp_path / "journal", 99, 300)
        async with engine.connect() as connection:
            before = await connection.execute(select(func.count()).select_from(ledger_daily))
            empty = before.scalar_one()
        await _reports_agree(engine)
        rebuilt = await ensure_rollups(engine, PARIS)
        await _reports_agree(engine)
        return rebuilt and rebuilt.requests, empty

    requests, empty = run(database_url, scenario)
    assert empty == 0
    assert requests is not None and requests >= 300


def test_cli_rebuilds_the_rollups_in_the_configured_zone(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def seed(engine: AsyncEngine) -> None:
        await insert_records(engine, [make_record(started_at=utc(2026, 3, 31, 22, 30))])

    run(database_url, seed)
    monkeypatch.setenv("HYGIE_ORG_TIMEZONE", "America/New_York")
    args = ["rebuild-rollups", "--database-url", database_url]
    for _ in range(2):  # idempotent
        result = CliRunner().invoke(report_app, args)
        assert result.exit_code == 0, result.output
        assert "rollups rebuilt in America/New_York: 1 rows for 1 days, 1 requests" in result.output

    async def days(engine: AsyncEngine) -> list[date]:
        async with engine.connect() as connection:
            return list((await connection.execute(select(ledger_daily.c.day))).scalars())

    assert run(database_url, days) == [date(2026, 3, 31)]


def test_a_refused_record_leaves_the_rollups_equal_to_the_ledger(
    database_url: str, tmp_path: Path
) -> None:
    """A batch the database refuses is bisected: the rollups of the records that land are
    written with them, the quarantined record is in neither."""

    async def scenario(engine: AsyncEngine) -> tuple[int, int, int]:
        good = [make_record(started_at=utc(2026, 4, 2), cost_micro_eur=5) for _ in range(9)]
        refused = make_record(started_at=utc(2026, 4, 2), cost_micro_eur=1000)
        refused.status_code = None  # type: ignore[assignment]  # NOT NULL: refused
        writer = LedgerWriter(
            lambda batch: insert_records(engine, batch),
            Journal(tmp_path / "journal"),
            probe=lambda: check_reachable(engine),
        )
        for record in [*good[:4], refused, *good[4:]]:
            writer.submit(record)
        await writer.flush()
        async with engine.connect() as connection:
            sums = select(
                func.sum(ledger_daily.c.requests), func.sum(ledger_daily.c.cost_micro_eur)
            )
            requests, cost = (await connection.execute(sums)).one()
        return writer.quarantined_total, int(requests), int(cost)

    assert run(database_url, scenario) == (1, 9, 45)


def test_a_period_not_cut_at_local_midnights_is_read_from_the_ledger(database_url: str) -> None:
    """A New York month is not made of whole Paris days: the Paris rollups cannot answer it."""

    async def scenario(engine: AsyncEngine) -> tuple[int, int]:
        # 03:00 UTC on 1 March: February in New York, March in Paris.
        await insert_records(engine, [make_record(started_at=utc(2026, 3, 1, 3), cost_micro_eur=9)])
        february_ny = month_period(2026, 2, NEW_YORK)
        return (
            await ledger_total_micros(engine, february_ny, PARIS),
            await ledger_total_micros(engine, month_period(2026, 2, PARIS), PARIS),
        )

    assert run(database_url, scenario) == (9, 0)
