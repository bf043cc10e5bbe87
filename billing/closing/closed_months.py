"""Closing a month, and reading a month as finance must see it (closed or provisional).

Guarantees:

* A month can be closed once it is over (in the organisation's time zone), and only once.
  Closing stores its charge lines, true-ups, FOCUS account and the versions used as one JSON
  document with its SHA-256 (:mod:`billing.closing.snapshot`).
* :func:`month_report` of a closed month is read from that document: changing a cost figure,
  a price or an exchange rate afterwards leaves every report of the month byte for byte
  the same. An open month is computed from the ledger (plus the corrections booked in it) and
  marked :attr:`MonthStatus.PROVISIONAL`; while it is in progress, its pools' cost and
  true-up cover only the hours elapsed.
* A month that has not started yet is an error, never an empty report.
* Requests of a closed month recorded after its close (a late spool) change nothing in it;
  their cost is reported as :attr:`MonthCharges.late_ledger_micros`, to be booked as a
  correction (:mod:`billing.closing.corrections`).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from billing.closing.corrections import correction_lines
from billing.closing.snapshot import figures_used, from_snapshot, to_snapshot
from billing.db.schema import closed_months
from billing.db.transactions import writing
from billing.periods import Period
from billing.pricing.costing import Costing
from billing.reports.focus import FocusAccount
from billing.reports.ledger_charges import (
    LedgerChargesError,
    MonthCharges,
    MonthStatus,
    ledger_total_micros,
    month_charges,
)


class MonthNotClosable(LedgerChargesError):
    """The month is not over yet, or is already closed."""


class UnknownMonth(LedgerChargesError):
    """The month has not started yet: there is nothing to report."""


async def closed_month_keys(engine: AsyncEngine) -> set[str]:
    """Keys (``YYYY-MM``) of every closed month."""
    async with engine.connect() as connection:
        rows = await connection.execute(select(closed_months.c.month))
        return {row.month for row in rows}


async def _stored(engine: AsyncEngine, key: str) -> tuple[MonthCharges, FocusAccount] | None:
    query = select(closed_months).where(closed_months.c.month == key)
    async with engine.connect() as connection:
        row = (await connection.execute(query)).first()
    if row is None:
        return None
    if hashlib.sha256(row.snapshot.encode()).hexdigest() != row.snapshot_sha256:
        raise LedgerChargesError(f"the stored figures of {key} do not match their checksum")
    charges, account = from_snapshot(row.snapshot)
    ledger_now = await ledger_total_micros(engine, charges.period, ZoneInfo(charges.tz_key))
    late = ledger_now - charges.ledger_cost_micros
    # SQLite gives back naive instants; they were written in UTC.
    closed_at = row.closed_at if row.closed_at.tzinfo else row.closed_at.replace(tzinfo=UTC)
    closed = replace(
        charges, status=MonthStatus.CLOSED, closed_at=closed_at, late_ledger_micros=late
    )
    return closed, account


async def _open_month(
    engine: AsyncEngine, costing: Costing, period: Period, now: datetime
) -> tuple[MonthCharges, FocusAccount]:
    charges = await month_charges(engine, costing, period, until=now)
    corrections = await correction_lines(
        engine, period, charges.department_names, provider=costing.organisation.name
    )
    if corrections:
        charges = replace(charges, lines=charges.lines + tuple(corrections))
    return charges, costing.focus_account()


async def month_report(
    engine: AsyncEngine, costing: Costing, period: Period, *, now: datetime
) -> tuple[MonthCharges, FocusAccount]:
    """The month's charges and FOCUS account: stored when closed, else provisional."""
    if period.start > now:
        raise UnknownMonth(f"{period.key} has not started yet")
    stored = await _stored(engine, period.key)
    if stored is not None:
        return stored
    return await _open_month(engine, costing, period, now)


async def close_month(
    engine: AsyncEngine,
    costing: Costing,
    period: Period,
    *,
    now: datetime,
    closed_by: str,
    into: AsyncConnection | None = None,
) -> MonthCharges:
    """Freeze ``period``'s figures; raises :class:`MonthNotClosable` when it cannot be closed.
    The figures are read through ``engine``; the frozen copy is written in ``into``'s
    transaction when given (with the audit entry that records the closing)."""
    if now < period.end:
        raise MonthNotClosable(f"{period.key} is not over yet; it can be closed from its end")
    charges, account = await _open_month(engine, costing, period, now)
    snapshot = to_snapshot(charges, account, figures_used(charges, costing))
    values = {
        "month": period.key,
        "closed_at": now,
        "closed_by": closed_by,
        "snapshot": snapshot,
        "snapshot_sha256": hashlib.sha256(snapshot.encode()).hexdigest(),
    }
    try:
        async with writing(into if into is not None else engine) as connection:
            await connection.execute(insert(closed_months).values(**values))
    except IntegrityError:
        raise MonthNotClosable(f"{period.key} is already closed") from None
    return replace(charges, status=MonthStatus.CLOSED, closed_at=now)
