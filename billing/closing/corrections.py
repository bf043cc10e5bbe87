"""Corrections of closed months: dated lines of a later open month that name what they correct.

A closed month is never rewritten. When an error is found afterwards, finance books a
correction (an amount, positive or negative, for one department, with a reason); it appears
in the month that is open when it is booked, as an adjustment line whose FOCUS ``ChargeClass``
is ``Correction`` and which names the month it corrects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from billing import directory
from billing.db.schema import charge_corrections, closed_months
from billing.db.transactions import Database, writing
from billing.money import CENT, to_cents
from billing.periods import Period, PeriodKind, period_containing
from billing.reports.ledger_charges import LedgerChargesError
from billing.reports.rows import ChargeLine, correction_line

MAX_REASON = 500


class InvalidCorrection(LedgerChargesError):
    """The correction cannot be booked (month not closed, unknown department, no reason...)."""


@dataclass(frozen=True, slots=True)
class Correction:
    """A booked correction."""

    booked_month: str
    corrects_month: str
    department: str
    amount: Decimal
    reason: str


async def book_correction(
    db: Database,
    *,
    corrects: Period,
    department: str,
    amount: Decimal,
    reason: str,
    now: datetime,
    tz: ZoneInfo,
    created_by: str = "",
) -> Correction:
    """Book a correction of closed month ``corrects`` in the month open at ``now``."""
    if not reason.strip() or len(reason) > MAX_REASON:
        raise InvalidCorrection(f"a correction needs a reason of 1 to {MAX_REASON} characters")
    if amount == 0 or amount != amount.quantize(CENT):
        raise InvalidCorrection("a correction is a non-zero amount in cents")
    if await directory.find_department(db, department) is None:
        raise InvalidCorrection(f"no department {department!r}")
    booked = period_containing(PeriodKind.MONTH, now, tz)
    async with writing(db) as connection:
        closed = await connection.execute(
            select(closed_months.c.month).where(closed_months.c.month == corrects.key)
        )
        if closed.first() is None:
            raise InvalidCorrection(
                f"{corrects.key} is not closed: its figures are still provisional, fix the source"
            )
        await connection.execute(
            insert(charge_corrections).values(
                booked_month=booked.key,
                corrects_month=corrects.key,
                department=department,
                amount_cents=int(amount / CENT),
                reason=reason.strip(),
                created_at=now,
                created_by=created_by,
            )
        )
    return Correction(booked.key, corrects.key, department, to_cents(amount), reason.strip())


async def correction_lines(
    engine: AsyncEngine, period: Period, names: Mapping[str, str], *, provider: str
) -> list[ChargeLine]:
    """The corrections booked in ``period``, as adjustment lines, oldest first."""
    query = (
        select(charge_corrections)
        .where(charge_corrections.c.booked_month == period.key)
        .order_by(charge_corrections.c.id)
    )
    async with engine.connect() as connection:
        rows = list(await connection.execute(query))
    return [
        correction_line(
            period,
            department_id=row.department,
            department_name=names.get(row.department, row.department),
            provider=provider,
            amount=to_cents(Decimal(row.amount_cents) * CENT),
            corrects=row.corrects_month,
            reason=row.reason,
        )
        for row in rows
    ]
