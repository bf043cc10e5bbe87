"""The periods the console shows: whole days and months in the organisation's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

from billing.reports.date_range import DateRange, ReportError
from gateway.console.problems import ConsoleProblem
from gateway.services import Services


def this_month(services: Services) -> DateRange:
    return DateRange.month_of(datetime.now(UTC), services.timezone)


def date_range(services: Services, first: str | None, last: str | None) -> DateRange:
    """The days ``first..last`` (ISO dates, either may be empty: this month); 400 otherwise."""
    try:
        return DateRange.parse(
            first or None, last or None, tz=services.timezone, now=datetime.now(UTC)
        )
    except ReportError:
        raise ConsoleProblem(400, "error.bad_dates") from None
