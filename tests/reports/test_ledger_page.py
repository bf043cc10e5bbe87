"""The ledger explorer's pages: filters, newest first, keyset cursors that never skip nor
repeat a row (even with equal timestamps), and cursors a client forged refused."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from billing.ledger.repository import insert_records
from billing.reports.date_range import DateRange, ReportError
from billing.reports.ledger_page import LedgerFilter, ledger_page
from tests.reports.factories import PARIS, make_directory, make_record, run, utc


async def _seed(engine: AsyncEngine) -> dict[str, int]:
    depts, users = await make_directory(engine, {"cardiologie": ["alice"], "urgences": ["carol"]})
    records = []
    for index in range(130):
        # Three records share each instant, to test ties on started_at.
        at = utc(2026, 3, 1) + timedelta(minutes=index // 3 * 30)
        cardio = index % 2 == 0
        records.append(
            make_record(
                started_at=at,
                department_id=depts["cardiologie" if cardio else "urgences"],
                user_id=users["alice" if cardio else "carol"],
                status_code=429 if index % 5 == 0 else 200,
            )
        )
    await insert_records(engine, records)
    return depts


def test_pages_walk_every_matching_record_once(database_url: str) -> None:
    async def scenario(engine: AsyncEngine) -> tuple[list[str], list[str], int]:
        depts = await _seed(engine)
        where = LedgerFilter(department_id=depts["cardiologie"])
        seen, cursor, pages = [], None, 0
        while True:
            page = await ledger_page(engine, where, cursor=cursor, limit=7)
            pages += 1
            seen += [r.request_id for r in page.records]
            assert all(r.department_id == depts["cardiologie"] for r in page.records)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        everything = await ledger_page(engine, where, limit=500)
        return seen, [r.request_id for r in everything.records], pages

    seen, everything, pages = run(database_url, scenario)
    assert len(seen) == len(set(seen)) == 65 and seen == everything and pages == 10


def test_filters_combine(database_url: str) -> None:
    async def scenario(engine: AsyncEngine) -> list[tuple[int, int | None]]:
        await _seed(engine)
        # 1 March in Paris ends at 23:00 UTC: 12:00 to 22:30 UTC, 66 records, 14 refused.
        day = DateRange(date(2026, 3, 1), date(2026, 3, 1), PARIS)
        page = await ledger_page(engine, LedgerFilter(period=day, status_code=429), limit=50)
        return [(r.status_code, r.department_id) for r in page.records]

    rows = run(database_url, scenario)
    assert len(rows) == 14 and {status for status, _ in rows} == {429}


@pytest.mark.parametrize("cursor", ["", "%%%", "bm9wZQ", "WyJ4IiwgMV0", "W10", "\u00e9t\u00e9"])
def test_a_forged_cursor_is_refused(sqlite_url: str, cursor: str) -> None:
    async def scenario(engine: AsyncEngine) -> None:
        await ledger_page(engine, LedgerFilter(), cursor=cursor)

    with pytest.raises(ReportError, match="cursor"):
        run(sqlite_url, scenario)


def test_page_size_is_bounded(sqlite_url: str) -> None:
    async def scenario(engine: AsyncEngine) -> None:
        await ledger_page(engine, LedgerFilter(), limit=10_000)

    with pytest.raises(ReportError, match="page holds"):
        run(sqlite_url, scenario)
