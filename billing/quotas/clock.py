"""Turns a passed-in instant into what the counters are keyed by.

Time is always passed in (``now``), never read from the wall clock, so tests can cross Paris
midnight and both daylight-saving changes deterministically.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from billing.periods import Period, PeriodKind, period_containing

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_KINDS = tuple(PeriodKind)


def epoch_us(now: datetime) -> int:
    """Microseconds since the Unix epoch of a timezone-aware instant (exact, no float)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return (now - _EPOCH) // _ONE_US


class PeriodCache:
    """The current calendar period of each kind in one time zone, recomputed only on rollover.

    Holds the last period seen per kind; ``period_containing`` is cheap but runs on every
    reserve and settle, so this keeps it off the hot path.
    """

    def __init__(self, tz: ZoneInfo) -> None:
        self._tz = tz
        self._last: dict[PeriodKind, Period] = {}
        self._all: tuple[Period, ...] = ()
        self._all_from = self._all_until = _EPOCH  # when all of ``_all`` hold

    def current_all(self, now: datetime) -> tuple[Period, ...]:
        """The periods of every kind (in :class:`PeriodKind` order) that contain ``now``.

        Asked for on every reserve and settle: two comparisons while no period changes.
        """
        if not self._all_from <= now < self._all_until:
            self._all = tuple(self.current(kind, now) for kind in _KINDS)
            self._all_from = max(period.start for period in self._all)
            self._all_until = min(period.end for period in self._all)
        return self._all

    @property
    def tz(self) -> ZoneInfo:
        """The organisation's time zone."""
        return self._tz

    def current(self, kind: PeriodKind, now: datetime) -> Period:
        """The period of ``kind`` that contains ``now``."""
        last = self._last.get(kind)
        if last is not None and last.contains(now):
            return last
        period = period_containing(kind, now, self._tz)
        self._last[kind] = period
        return period
