"""A report's period: whole local days in the organisation's time zone, as UTC bounds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


class ReportError(ValueError):
    """A report request that cannot be answered as asked (bad dates, unknown dimension...)."""


@dataclass(frozen=True, slots=True)
class DateRange:
    """Whole local days ``first..last`` (inclusive) in ``tz``; ``[start, end)`` in UTC."""

    first: date
    last: date
    tz: ZoneInfo = PARIS

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ReportError(f"the period ends ({self.last}) before it starts ({self.first})")

    @property
    def start(self) -> datetime:
        return _local_midnight(self.first, self.tz)

    @property
    def end(self) -> datetime:
        return _local_midnight(self.last + timedelta(days=1), self.tz)

    @classmethod
    def month_of(cls, instant: datetime, tz: ZoneInfo = PARIS) -> DateRange:
        """The calendar month (in ``tz``) containing ``instant``."""
        local = instant.astimezone(tz).date()
        first = local.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
        return cls(first, after - timedelta(days=1), tz)

    @classmethod
    def parse(
        cls, first: str | None, last: str | None, *, tz: ZoneInfo = PARIS, now: datetime
    ) -> DateRange:
        """From ISO dates; a missing bound defaults to the current month's (in ``tz``)."""
        month = cls.month_of(now, tz)
        try:
            start = date.fromisoformat(first) if first else month.first
            stop = date.fromisoformat(last) if last else month.last
        except ValueError as exc:
            raise ReportError(f"dates are YYYY-MM-DD: {exc}") from None
        return cls(start, stop, tz)


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
