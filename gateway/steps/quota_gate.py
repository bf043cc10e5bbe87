"""The quota step of the pipeline: reserve the worst case at every level, settle the actual.

Limits live in the database (set through the admin API or CLI) and are refreshed every few
seconds, so changes apply without a restart. Counters live in the :class:`QuotaStore` (Redis
when several gateways share them, in-process otherwise), rebuilt from the ledger at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from billing.directory import Principal
from billing.ledger.spend import spend_by_node
from billing.limits import repo
from billing.periods import PeriodKind, period_containing
from billing.quotas import (
    Amount,
    Level,
    LimitKind,
    NodeLimits,
    QuotaStore,
    QuotaStoreUnavailable,
    RateFigures,
    Refused,
    ThresholdCrossed,
    decide_on_outage,
)
from billing.quotas.amounts import MAX_UNITS
from gateway.errors import GatewayError, QuotaExceeded, QuotaUnavailable, RateLimited
from gateway.supervisor import start_supervised

log = logging.getLogger("hygie.quotas")

_WHO = {
    Level.ORGANISATION: "the organisation",
    Level.DEPARTMENT: "your department",
    Level.TEAM: "your team",
    Level.USE_CASE: "your use case",
    Level.USER: "your account",
    Level.KEY: "this API key",
}
_WHAT = {
    LimitKind.BUDGET_EUR: "budget in euros",
    LimitKind.BUDGET_TOKENS: "token budget",
    LimitKind.RPM: "requests-per-minute limit",
    LimitKind.TPM: "tokens-per-minute limit",
    LimitKind.CONCURRENCY: "limit of concurrent requests",
}

AlertSink = Callable[[Sequence[ThresholdCrossed]], Awaitable[None]]


@dataclass(slots=True)
class Hold:
    """What a request holds in the counters; settled exactly once when it ends."""

    request_id: str
    chain: tuple[NodeLimits, ...]
    held: Amount
    output_tokens: int
    """Output tokens held, all the request's outputs (choices, prompts) together."""
    headers: dict[str, str] = field(default_factory=dict)
    sequences: int = 1  # outputs generated at once (n per prompt): a chat stream's role chunks
    counted: bool = True  # False when the store was down and the request passed unmetered
    open_ended: bool = False  # no max_tokens from the client: a stream may need top-ups
    settled: bool = False

    @property
    def takes_a_slot(self) -> bool:
        """True when a node above counts concurrent requests, this one among them."""
        return any(node.max_concurrent for node in self.chain)


def rate_headers(requests: RateFigures | None, tokens: RateFigures | None) -> dict[str, str]:
    """The ``x-ratelimit-*`` headers OpenAI clients understand."""
    headers: dict[str, str] = {}
    for name, figures in (("requests", requests), ("tokens", tokens)):
        if figures is not None:
            headers[f"x-ratelimit-limit-{name}"] = str(figures.limit)
            headers[f"x-ratelimit-remaining-{name}"] = str(figures.remaining)
            headers[f"x-ratelimit-reset-{name}"] = f"{figures.reset_s}s"
    return headers


def refusal_error(refused: Refused, period_key: str | None) -> GatewayError:
    """The client's error for a refusal: names the level, never another tenant's figures."""
    who, what = _WHO.get(refused.level, "a quota"), _WHAT[refused.reason]
    if refused.reason in (LimitKind.BUDGET_EUR, LimitKind.BUDGET_TOKENS):
        when = f" for {period_key}" if period_key else ""
        return QuotaExceeded(
            f"The {what} of {who} is exhausted{when}. Ask your department's administrator."
        )
    retry = refused.retry_after_s or 1
    return RateLimited(
        f"The {what} of {who} is reached; retry in {retry} s.",
        retry_after_s=retry,
        headers={},
    )


class QuotaGate:
    """Reserves, tops up and settles request amounts against the configured limits."""

    def __init__(
        self,
        store: QuotaStore,
        engine: AsyncEngine,
        *,
        timezone: ZoneInfo,
        default_max_tokens: int,
        refresh_s: float = 5.0,
        settle_batch_s: float = 0.005,
        on_alerts: AlertSink | None = None,
        on_refusal: Callable[[str], None] | None = None,
    ) -> None:
        self._store = store
        self._engine = engine
        self._tz = timezone
        self._default_max_tokens = default_max_tokens
        self._refresh_s = refresh_s
        self.on_alerts = on_alerts
        self._on_refusal = on_refusal
        self._limits: dict[str, repo.StoredLimits] = {}
        # The chain of each place a key can sit in, built from ``_limits`` on first use.
        self._chains: dict[tuple[int, str | None, int, str | None], tuple[NodeLimits, ...]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._refresher: asyncio.Task[None] | None = None
        self._rebuild_pending = False
        self._settle_batch_s = settle_batch_s
        self._pending_settles: list[tuple[str, Amount]] = []
        self._settler: asyncio.Task[None] | None = None

    @property
    def store(self) -> QuotaStore:
        return self._store

    @property
    def default_max_tokens(self) -> int:
        return self._default_max_tokens

    async def start(self) -> None:
        """Load limits, rebuild counters from the ledger, and keep limits fresh."""
        await self.reload_limits()
        await self.rebuild_from_ledger()
        self._refresher = start_supervised("quota-limits", self._refresh_forever)

    async def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            # Wait for it: a refresh cancelled mid-query must return its connection before the
            # engine is disposed.
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._store.close()

    async def reload_limits(self) -> None:
        self._limits, self._chains = await repo.all_limits(self._engine), {}

    def label(self, node_id: str) -> str:
        stored = self._limits.get(node_id)
        return stored.label if stored else node_id

    def chain_for(self, owner: Principal) -> tuple[NodeLimits, ...]:
        """The configured nodes above a key, from the organisation down to the key."""
        place = (owner.department_id, owner.use_case, owner.user_id, owner.key_id)
        chain = self._chains.get(place)
        if chain is None:
            nodes = [repo.ORG_NODE, repo.department_node(owner.department_id)]
            if owner.use_case:
                nodes.append(repo.use_case_node(owner.department_id, owner.use_case))
            nodes.append(repo.user_node(owner.user_id))
            if owner.key_id is not None:  # a token has no key: its user's limits apply
                nodes.append(repo.key_node(owner.key_id))
            chain = tuple(self._limits[n].limits for n in nodes if n in self._limits)
            self._chains[place] = chain  # forgotten whenever the limits are reloaded
        return chain

    async def reserve(
        self,
        request_id: str,
        chain: tuple[NodeLimits, ...],
        prompt_tokens: int,
        output_tokens: int,
        worst_case_micro_eur: int,
        *,
        sequences: int = 1,
    ) -> Hold | None:
        """Hold the worst case at every level at once; None when no limit applies.

        ``output_tokens`` counts every output the request generates (``sequences`` of them).

        Raises :class:`QuotaExceeded`, :class:`RateLimited` or :class:`QuotaUnavailable`.
        """
        if not chain:
            return None
        # Beyond MAX_UNITS (ten million euros or ten trillion tokens) no budget can hold it:
        # held at the ceiling, it is refused by any budget instead of failing.
        amount = Amount(
            micro_eur=min(worst_case_micro_eur, MAX_UNITS),
            tokens=min(prompt_tokens + output_tokens, MAX_UNITS),
        )
        now = datetime.now(UTC)
        try:
            result = await self._store.reserve(request_id, chain, amount, now)
        except QuotaStoreUnavailable:
            hold = self._outage(request_id, chain, amount, output_tokens)
            hold.sequences = sequences
            return hold
        if isinstance(result, Refused):
            if self._on_refusal is not None:
                self._on_refusal(result.level.value)
            raise refusal_error(result, self._period_key(result.node_id, now))
        return Hold(
            request_id,
            chain,
            result.held,
            output_tokens,
            headers=rate_headers(result.requests, result.tokens),
            sequences=sequences,
        )

    def _outage(
        self, request_id: str, chain: tuple[NodeLimits, ...], amount: Amount, output_tokens: int
    ) -> Hold:
        decision = decide_on_outage(chain)
        log.warning(
            "quota counters unreachable: %s (%s at %s)",
            "request let through" if decision.allowed else "request refused",
            decision.reason.value if decision.reason else "no hard limit",
            decision.level.value if decision.level else "-",
        )
        if self._on_refusal is not None and not decision.allowed:
            self._on_refusal("unavailable")
        if not decision.allowed:
            raise QuotaUnavailable(
                "Quota counters are unavailable and a hard budget applies; retry shortly."
            )
        return Hold(request_id, chain, amount, output_tokens, counted=False)

    async def top_up(self, hold: Hold, extra: Amount) -> bool:
        """Hold more for a stream that outgrew its reservation; False when a budget refuses."""
        if not hold.counted:
            return True
        try:
            granted = await self._store.top_up(hold.request_id, extra, datetime.now(UTC))
        except QuotaStoreUnavailable:
            return decide_on_outage(hold.chain).allowed
        if granted:
            hold.held = Amount(
                hold.held.micro_eur + extra.micro_eur, hold.held.tokens + extra.tokens
            )
        return granted

    def settle_soon(self, hold: Hold, actual: Amount) -> None:
        """Settle off the response path, exactly once per hold.

        Settlements are gathered for ``settle_batch_s`` and sent together (one round trip to
        Redis for all of them): a hold outlives its request by at most that long, which only
        makes the counters more cautious for that moment. A hold that takes a slot of a
        concurrency limit is settled at once (with whatever else is waiting): a client that
        sends its next request as soon as an answer arrives must find its slot free.
        """
        if hold.settled or not hold.counted:
            return
        hold.settled = True
        self._pending_settles.append((hold.request_id, actual))
        if hold.takes_a_slot:
            self._schedule_settlements(delay_s=0.0)
        elif self._settler is None:
            self._settler = self._schedule_settlements(delay_s=self._settle_batch_s)

    def _schedule_settlements(self, delay_s: float) -> asyncio.Task[None]:
        task = asyncio.create_task(self._settle_batch(delay_s))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _settle_batch(self, delay_s: float) -> None:
        if delay_s:
            await asyncio.sleep(delay_s)
            self._settler = None
        batch, self._pending_settles = self._pending_settles, []
        if not batch:
            return  # an immediate settlement took them already
        try:
            events = await self._store.settle_many(batch, datetime.now(UTC))
        except QuotaStoreUnavailable:
            # The reservations expire by themselves; the ledger keeps the truth and the
            # counters are rebuilt from it.
            log.warning("could not settle %d requests: quota counters unreachable", len(batch))
            return
        if events and self.on_alerts is not None:
            await self.on_alerts(events)

    async def rebuild_from_ledger(self) -> None:
        """Replace committed spend of the current periods with the ledger's figures."""
        now = datetime.now(UTC)
        kinds = {s.limits.period for s in self._limits.values() if s.limits.period is not None}
        for kind in kinds:
            period = period_containing(kind, now, self._tz)
            spend = await spend_by_node(self._engine, period)
            nodes = [n for n, s in self._limits.items() if s.limits.period is kind]
            try:
                await self._store.rebuild({n: spend.get(n, Amount(0, 0)) for n in nodes}, period)
            except QuotaStoreUnavailable:
                log.warning("quota counters unreachable; rebuild postponed")
                self._rebuild_pending = True
                return
        self._rebuild_pending = False

    def _period_key(self, node_id: str, now: datetime) -> str | None:
        stored = self._limits.get(node_id)
        if stored is None or stored.limits.period is None:
            return None
        return period_containing(stored.limits.period, now, self._tz).key

    async def _refresh_forever(self) -> None:
        periods: dict[PeriodKind, str] = {}
        while True:
            await asyncio.sleep(self._refresh_s)
            with contextlib.suppress(OSError, SQLAlchemyError):
                await self.reload_limits()
            now = datetime.now(UTC)
            current = {k: period_containing(k, now, self._tz).key for k in PeriodKind}
            if self._rebuild_pending or (periods and current != periods):
                await self.rebuild_from_ledger()  # a period began, or Redis came back
            periods = current
