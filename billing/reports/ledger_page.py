"""One page of the ledger explorer: filtered records, newest first, with keyset pagination.

Row-level views read the ledger itself (the rollups only hold sums). A page is found by an
index range scan, never by ``OFFSET``: the cursor is the last row's ``(started_at,
request_id)``, so page 2,000 costs what page 1 costs, and rows written meanwhile never shift a
page. Department and user filters use ``(department_id, started_at)`` and ``(user_id,
started_at)``; the others filter along ``started_at``.

Records never hold prompt or answer text, so a page cannot show any.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from billing.db.schema import ledger
from billing.ledger.record import LedgerRecord
from billing.ledger.repository import record_from_row
from billing.reports.date_range import DateRange, ReportError

MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class LedgerFilter:
    """What the explorer may filter on; None means any."""

    period: DateRange | None = None
    department_id: int | None = None
    user_id: int | None = None
    model: str | None = None
    decision: str | None = None
    status_code: int | None = None


@dataclass(frozen=True, slots=True)
class LedgerPage:
    """Records newest first, and the cursor of the next page (None on the last one)."""

    records: tuple[LedgerRecord, ...]
    next_cursor: str | None


def encode_cursor(record: LedgerRecord) -> str:
    """An opaque cursor pointing just after ``record``."""
    value = [record.started_at.astimezone(UTC).isoformat(), record.request_id]
    return base64.urlsafe_b64encode(orjson.dumps(value)).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The ``(started_at, request_id)`` of a cursor; raises :class:`ReportError`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        instant, request_id = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        started = datetime.fromisoformat(instant)
        if started.tzinfo is None or not isinstance(request_id, str):
            raise ValueError("not a cursor")
    except (UnicodeEncodeError, binascii.Error, orjson.JSONDecodeError, TypeError, ValueError):
        raise ReportError("the page cursor is not one this server gave") from None
    return started, request_id


def _conditions(where: LedgerFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if where.period is not None:
        conditions += [
            ledger.c.started_at >= where.period.start,
            ledger.c.started_at < where.period.end,
        ]
    if where.department_id is not None:
        conditions.append(ledger.c.department_id == where.department_id)
    if where.user_id is not None:
        conditions.append(ledger.c.user_id == where.user_id)
    if where.model is not None:
        conditions.append(ledger.c.model == where.model)
    if where.decision is not None:
        conditions.append(ledger.c.policy_decision == where.decision)
    if where.status_code is not None:
        conditions.append(ledger.c.status_code == where.status_code)
    return conditions


async def ledger_page(
    engine: AsyncEngine,
    where: LedgerFilter,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> LedgerPage:
    """The ``limit`` newest records matching ``where`` after ``cursor`` (1..500)."""
    if not 1 <= limit <= MAX_PAGE:
        raise ReportError(f"a page holds 1 to {MAX_PAGE} records")
    conditions: Sequence[ColumnElement[bool]] = _conditions(where)
    query = select(ledger).where(*conditions)
    if cursor is not None:
        started, request_id = decode_cursor(cursor)
        # (started_at, request_id) < cursor, spelt out: row values are not indexed everywhere.
        query = query.where(
            or_(
                ledger.c.started_at < started,
                and_(ledger.c.started_at == started, ledger.c.request_id < request_id),
            )
        )
    query = query.order_by(ledger.c.started_at.desc(), ledger.c.request_id.desc())
    async with engine.connect() as connection:
        rows = (await connection.execute(query.limit(limit + 1))).all()
    records = tuple(record_from_row(row) for row in rows[:limit])
    more = len(rows) > limit
    return LedgerPage(records, encode_cursor(records[-1]) if more else None)
