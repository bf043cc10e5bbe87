"""Accounting periods computed in the organisation's time zone and expressed in UTC.

A budget "per calendar month" means the month as people in the hospital live it (Europe/Paris by
default): a month that contains a daylight-saving change is 743 or 745 hours long, not 744.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class PeriodKind(StrEnum):
    """How a budget or counter resets."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open interval ``[start, end)`` in UTC with a stable, human-readable key."""

    kind: PeriodKind
    key: str
    start: datetime
    end: datetime

    def contains(self, instant: datetime) -> bool:
        """True when ``instant`` (timezone-aware) falls in this period."""
        return self.start <= instant < self.end


def _local_midnight(year: int, month: int, day: int, tz: ZoneInfo) -> datetime:
    return datetime(year, month, day, tzinfo=tz).astimezone(UTC)


def period_containing(kind: PeriodKind, instant: datetime, tz: ZoneInfo) -> Period:
    """The period of ``kind`` that contains ``instant`` (which must be timezone-aware)."""
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    local = instant.astimezone(tz)
    if kind is PeriodKind.DAY:
        first = local.date()
        after = first + timedelta(days=1)
        key = first.isoformat()
    elif kind is PeriodKind.WEEK:
        first = local.date() - timedelta(days=local.weekday())
        after = first + timedelta(days=7)
        iso = first.isocalendar()
        key = f"{iso.year}-W{iso.week:02d}"
    else:
        first = local.date().replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
        key = f"{first.year}-{first.month:02d}"
    return Period(
        kind=kind,
        key=key,
        start=_local_midnight(first.year, first.month, first.day, tz),
        end=_local_midnight(after.year, after.month, after.day, tz),
    )


def month_period(year: int, month: int, tz: ZoneInfo) -> Period:
    """The calendar month ``year-month`` in ``tz``."""
    return period_containing(PeriodKind.MONTH, datetime(year, month, 15, 12, tzinfo=tz), tz)
