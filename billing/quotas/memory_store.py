"""The in-process quota store: one asyncio event loop, one process (development, tests, the
embedded single-node setup).

Each method runs to completion without awaiting, so every operation is atomic with respect to
the other tasks of the loop — the in-memory equivalent of one Redis Lua script. It keeps exactly
the semantics of :class:`~billing.quotas.redis_store.RedisQuotaStore` (the guarantees are in
:mod:`billing.quotas.store`); the shared behavioural suite runs against both. Finished
reservations are forgotten ``tombstone_ttl_s`` after they finish, judged on the passed-in time;
committed counters of past calendar periods stay for the life of the process (one small entry per
node and period).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from billing.periods import Period
from billing.quotas.amounts import Amount
from billing.quotas.clock import PeriodCache, epoch_us
from billing.quotas.gcra import GcraCheck, gcra_adjust, gcra_check
from billing.quotas.limits import LimitKind, NodeLimits, check_chain
from billing.quotas.rolling import US_PER_S, RollingWindow
from billing.quotas.store import (
    DEFAULT_RESERVATION_TTL_S,
    DEFAULT_TOMBSTONE_TTL_S,
    NodeUsage,
    RateFigures,
    Refused,
    Reserved,
)
from billing.quotas.thresholds import BudgetUnit, ThresholdCrossed, reached


class _State(StrEnum):
    HELD = "held"
    SETTLED = "settled"
    RELEASED = "released"
    EXPIRED = "expired"


@dataclass(slots=True)
class _Reservation:
    chain: tuple[NodeLimits, ...]
    held_e: int
    held_t: int
    deadline_us: int
    requests: RateFigures | None
    tokens: RateFigures | None
    state: _State = _State.HELD


@dataclass(slots=True)
class _Node:
    reserved_e: int = 0
    reserved_t: int = 0
    in_flight: int = 0
    rpm_tat: float = 0.0
    tpm_tat: float = 0.0


@dataclass(slots=True)
class _Spend:
    e: int = 0
    t: int = 0


@dataclass(slots=True)
class _Rolling:
    buckets: dict[int, _Spend] = field(default_factory=dict)


class MemoryQuotaStore:
    """A :class:`~billing.quotas.store.QuotaStore` held in this process's memory."""

    def __init__(
        self,
        tz: ZoneInfo | None = None,
        reservation_ttl_s: int = DEFAULT_RESERVATION_TTL_S,
        tombstone_ttl_s: int = DEFAULT_TOMBSTONE_TTL_S,
    ) -> None:
        if reservation_ttl_s < 1 or tombstone_ttl_s < 1:
            raise ValueError("TTLs must be at least one second")
        self._periods = PeriodCache(tz or ZoneInfo("Europe/Paris"))
        self._ttl_us = reservation_ttl_s * US_PER_S
        self._tombstone_us = tombstone_ttl_s * US_PER_S
        self._reservations: dict[str, _Reservation] = {}
        self._deadlines: list[tuple[int, str]] = []
        self._forget: list[tuple[int, str]] = []
        self._nodes: dict[str, _Node] = {}
        self._calendar: dict[tuple[str, str], _Spend] = {}
        self._rolling: dict[tuple[str, int], _Rolling] = {}
        self._flags: set[tuple[str, str, int]] = set()

    async def reserve(
        self, request_id: str, chain: Sequence[NodeLimits], amount: Amount, now: datetime
    ) -> Reserved | Refused:
        """Hold ``amount`` at every node of ``chain`` at once, or nowhere."""
        check_chain(chain)
        now_us = epoch_us(now)
        self._purge(now_us)
        known = self._reservations.get(request_id)
        if known is not None:
            held = Amount(known.held_e, known.held_t)
            return Reserved(request_id, held, known.requests, known.tokens, duplicate=True)

        budget_refusal: Refused | None = None
        concurrency_refusal: Refused | None = None
        rate_refusal: Refused | None = None
        rpm_checks: list[tuple[str, int, GcraCheck]] = []
        tpm_checks: list[tuple[str, int, GcraCheck]] = []
        for limits in chain:
            node = self._nodes.get(limits.node_id) or _Node()
            if budget_refusal is None:
                budget_refusal = self._budget_refusal(
                    request_id, limits, node, amount.micro_eur, amount.tokens, now, now_us
                )
            if (
                concurrency_refusal is None
                and limits.max_concurrent is not None
                and node.in_flight + 1 > limits.max_concurrent
            ):
                concurrency_refusal = _refused(
                    request_id, limits, LimitKind.CONCURRENCY, limits.max_concurrent, 1
                )
            for kind, limit, tat, cost, checks in (
                (LimitKind.RPM, limits.rpm, node.rpm_tat, 1, rpm_checks),
                (LimitKind.TPM, limits.tpm, node.tpm_tat, amount.tokens, tpm_checks),
            ):
                if limit is None:
                    continue
                check = gcra_check(tat, now_us, limit, cost)
                checks.append((limits.node_id, limit, check))
                if not check.allowed and (
                    rate_refusal is None or check.retry_after_s > (rate_refusal.retry_after_s or 0)
                ):
                    rate_refusal = _refused(request_id, limits, kind, limit, check.retry_after_s)
        refusal = budget_refusal or concurrency_refusal or rate_refusal
        if refusal is not None:
            return refusal

        for limits in chain:
            node = self._nodes.setdefault(limits.node_id, _Node())
            node.reserved_e += amount.micro_eur
            node.reserved_t += amount.tokens
            node.in_flight += 1
        for node_id, _, check in rpm_checks:
            self._nodes[node_id].rpm_tat = check.tat_us
        for node_id, _, check in tpm_checks:
            self._nodes[node_id].tpm_tat = check.tat_us
        reservation = _Reservation(
            chain=tuple(chain),
            held_e=amount.micro_eur,
            held_t=amount.tokens,
            deadline_us=now_us + self._ttl_us,
            requests=_most_constrained(rpm_checks),
            tokens=_most_constrained(tpm_checks),
        )
        self._reservations[request_id] = reservation
        heapq.heappush(self._deadlines, (reservation.deadline_us, request_id))
        return Reserved(request_id, amount, reservation.requests, reservation.tokens)

    async def settle_many(
        self, settlements: Sequence[tuple[str, Amount]], now: datetime
    ) -> list[ThresholdCrossed]:
        """:meth:`settle` for several requests."""
        events: list[ThresholdCrossed] = []
        for request_id, actual in settlements:
            events += await self.settle(request_id, actual, now)
        return events

    async def settle(
        self, request_id: str, actual: Amount, now: datetime
    ) -> list[ThresholdCrossed]:
        """Commit ``actual`` to the window containing ``now``; return newly crossed thresholds.

        Unknown or already settled/released ids are a no-op. A reservation that expired is still
        committed (the spend happened; the ledger has it) but has no hold left to release.
        """
        now_us = epoch_us(now)
        self._purge(now_us)
        reservation = self._reservations.get(request_id)
        if reservation is None or reservation.state in (_State.SETTLED, _State.RELEASED):
            return []
        if reservation.state is _State.HELD:
            self._unhold(reservation)
        for limits in reservation.chain:
            if limits.tpm is not None:
                node = self._nodes.setdefault(limits.node_id, _Node())
                node.tpm_tat = gcra_adjust(
                    node.tpm_tat, limits.tpm, actual.tokens - reservation.held_t
                )
        events: list[ThresholdCrossed] = []
        for limits in reservation.chain:
            if limits.has_window:
                spend = self._commit(limits, actual, now, now_us)
                events.extend(self._crossed(limits, spend, now, now_us))
        reservation.state = _State.SETTLED
        heapq.heappush(self._forget, (now_us + self._tombstone_us, request_id))
        return events

    async def top_up(self, request_id: str, extra: Amount, now: datetime) -> bool:
        """Add ``extra`` to a live hold at every node at once; ``False`` if any budget refuses.

        Rate limits do not refuse a top-up (the tokens are being generated anyway) but TPM is
        charged for them. An accepted top-up restarts the reservation's TTL.
        """
        now_us = epoch_us(now)
        self._purge(now_us)
        reservation = self._reservations.get(request_id)
        if reservation is None or reservation.state is not _State.HELD:
            return False
        for limits in reservation.chain:
            node = self._nodes.get(limits.node_id) or _Node()
            if self._budget_refusal(
                request_id, limits, node, extra.micro_eur, extra.tokens, now, now_us
            ):
                return False
        for limits in reservation.chain:
            node = self._nodes.setdefault(limits.node_id, _Node())
            node.reserved_e += extra.micro_eur
            node.reserved_t += extra.tokens
            if limits.tpm is not None:
                node.tpm_tat = gcra_adjust(node.tpm_tat, limits.tpm, extra.tokens)
        reservation.held_e += extra.micro_eur
        reservation.held_t += extra.tokens
        reservation.deadline_us = now_us + self._ttl_us
        heapq.heappush(self._deadlines, (reservation.deadline_us, request_id))
        return True

    async def release(self, request_id: str) -> None:
        """Give a live hold back (and its tokens to TPM) without committing anything."""
        reservation = self._reservations.get(request_id)
        if reservation is None or reservation.state is not _State.HELD:
            return
        self._unhold(reservation)
        for limits in reservation.chain:
            if limits.tpm is not None:
                node = self._nodes.setdefault(limits.node_id, _Node())
                node.tpm_tat = gcra_adjust(node.tpm_tat, limits.tpm, -reservation.held_t)
        reservation.state = _State.RELEASED
        heapq.heappush(self._forget, (reservation.deadline_us + self._tombstone_us, request_id))

    async def rebuild(self, period_spend: Mapping[str, Amount], period: Period) -> None:
        """Replace the committed spend of ``period`` for the given nodes with the ledger's.

        Threshold flags are kept: an alert already sent is not sent again.
        """
        window = _calendar_key(period)
        for node_id, amount in period_spend.items():
            self._calendar[(node_id, window)] = _Spend(amount.micro_eur, amount.tokens)

    async def read(self, node_id: str, window: Period | RollingWindow, now: datetime) -> NodeUsage:
        """Committed spend of ``node_id`` in ``window`` and what it holds now."""
        now_us = epoch_us(now)
        self._purge(now_us)
        if isinstance(window, Period):
            spend = self._calendar.get((node_id, _calendar_key(window))) or _Spend()
        else:
            spend = self._rolling_sum(node_id, window, now_us)
        node = self._nodes.get(node_id) or _Node()
        return NodeUsage(
            committed=Amount(spend.e, spend.t),
            reserved=Amount(node.reserved_e, node.reserved_t),
            in_flight=node.in_flight,
        )

    async def close(self) -> None:
        """Nothing to release in memory."""

    def _budget_refusal(
        self,
        request_id: str,
        limits: NodeLimits,
        node: _Node,
        micro_eur: int,
        tokens: int,
        now: datetime,
        now_us: int,
    ) -> Refused | None:
        if limits.budget_micro_eur is None and limits.budget_tokens is None:
            return None
        spend = self._committed(limits, now, now_us)
        budget = limits.budget_micro_eur
        if budget is not None and spend.e + node.reserved_e + micro_eur > budget:
            return _refused(request_id, limits, LimitKind.BUDGET_EUR, budget, None)
        budget = limits.budget_tokens
        if budget is not None and spend.t + node.reserved_t + tokens > budget:
            return _refused(request_id, limits, LimitKind.BUDGET_TOKENS, budget, None)
        return None

    def _committed(self, limits: NodeLimits, now: datetime, now_us: int) -> _Spend:
        if limits.period is not None:
            key = _calendar_key(self._periods.current(limits.period, now))
            return self._calendar.get((limits.node_id, key)) or _Spend()
        assert limits.rolling_window_s is not None
        return self._rolling_sum(limits.node_id, RollingWindow(limits.rolling_window_s), now_us)

    def _commit(self, limits: NodeLimits, actual: Amount, now: datetime, now_us: int) -> _Spend:
        if limits.period is not None:
            key = _calendar_key(self._periods.current(limits.period, now))
            spend = self._calendar.setdefault((limits.node_id, key), _Spend())
            spend.e += actual.micro_eur
            spend.t += actual.tokens
            return spend
        assert limits.rolling_window_s is not None
        window = RollingWindow(limits.rolling_window_s)
        rolling = self._rolling.setdefault((limits.node_id, window.seconds), _Rolling())
        bucket = rolling.buckets.setdefault(window.bucket_of(now_us), _Spend())
        bucket.e += actual.micro_eur
        bucket.t += actual.tokens
        return self._rolling_sum(limits.node_id, window, now_us)

    def _rolling_sum(self, node_id: str, window: RollingWindow, now_us: int) -> _Spend:
        rolling = self._rolling.get((node_id, window.seconds))
        total = _Spend()
        if rolling is None:
            return total
        oldest = window.oldest_bucket(now_us)
        for index in [i for i in rolling.buckets if i < oldest]:
            del rolling.buckets[index]
        for bucket in rolling.buckets.values():
            total.e += bucket.e
            total.t += bucket.t
        return total

    def _crossed(
        self, limits: NodeLimits, spend: _Spend, now: datetime, now_us: int
    ) -> list[ThresholdCrossed]:
        if limits.budget_micro_eur is None and limits.budget_tokens is None:
            return []
        if limits.period is not None:
            period_key = self._periods.current(limits.period, now).key
        else:
            assert limits.rolling_window_s is not None
            period_key = RollingWindow(limits.rolling_window_s).threshold_key(now_us)
        events = []
        for pct in limits.thresholds_pct:
            flag = (limits.node_id, period_key, pct)
            if flag in self._flags:
                continue
            crossed: tuple[BudgetUnit, int, int] | None = None
            if limits.budget_micro_eur is not None and reached(
                spend.e, limits.budget_micro_eur, pct
            ):
                crossed = (BudgetUnit.EUR, spend.e, limits.budget_micro_eur)
            elif limits.budget_tokens is not None and reached(spend.t, limits.budget_tokens, pct):
                crossed = (BudgetUnit.TOKENS, spend.t, limits.budget_tokens)
            if crossed is None:
                continue
            self._flags.add(flag)
            unit, spent, budget = crossed
            events.append(
                ThresholdCrossed(limits.node_id, limits.level, pct, period_key, unit, spent, budget)
            )
        return events

    def _unhold(self, reservation: _Reservation) -> None:
        for limits in reservation.chain:
            node = self._nodes.setdefault(limits.node_id, _Node())
            node.reserved_e -= reservation.held_e
            node.reserved_t -= reservation.held_t
            node.in_flight -= 1

    def _purge(self, now_us: int) -> None:
        # Deadlines are pushed again on every top-up; stale heap entries are skipped here.
        while self._deadlines and self._deadlines[0][0] <= now_us:
            deadline_us, request_id = heapq.heappop(self._deadlines)
            reservation = self._reservations.get(request_id)
            if (
                reservation is not None
                and reservation.state is _State.HELD
                and reservation.deadline_us == deadline_us
            ):
                self._unhold(reservation)
                reservation.state = _State.EXPIRED
                heapq.heappush(self._forget, (deadline_us + self._tombstone_us, request_id))
        while self._forget and self._forget[0][0] <= now_us:
            _, request_id = heapq.heappop(self._forget)
            self._reservations.pop(request_id, None)


def _calendar_key(period: Period) -> str:
    return f"{period.kind.value}:{period.key}"


def _refused(
    request_id: str, limits: NodeLimits, reason: LimitKind, limit: int, retry_after_s: int | None
) -> Refused:
    return Refused(request_id, limits.level, limits.node_id, reason, limit, retry_after_s)


def _most_constrained(checks: list[tuple[str, int, GcraCheck]]) -> RateFigures | None:
    """The figures of the limit with the fewest units left (the first one on a tie)."""
    best: RateFigures | None = None
    for _, limit, check in checks:
        if best is None or check.remaining < best.remaining:
            best = RateFigures(limit, check.remaining, check.reset_s)
    return best
