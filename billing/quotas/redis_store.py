"""The shared quota store: Redis (or Redis Cluster), one Lua script per operation.

Every operation (reserve, settle, top_up, release, rebuild, read) is one script from ``lua/``,
so it is atomic across all gateway processes. All keys of an organisation share the hash tag
``hygie:{<org>}:``, hence one Cluster hash slot; scripts receive the reservation and deadline keys
in ``KEYS`` (for routing) and derive the per-node keys from the same prefix:

* ``res:<request id>`` reservation hash: state, chain snapshot, amount held, rate figures;
* ``dl`` sorted set of live reservations by deadline (microseconds of the passed-in time);
* ``n:<node>`` node hash: amounts held, reservations in flight, RPM/TPM GCRA state;
* ``c:<node>:<kind>:<period key>`` committed spend of a calendar period;
* ``r:<node>:<seconds>`` rolling-window buckets; ``f:<node>:<period key>`` threshold flags.

Expiry of reservations is decided from the ``now`` passed to each call. Redis ``EXPIRE`` is used
only as garbage collection of finished reservations and old counters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from importlib.resources import files
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import orjson
from redis import exceptions as redis_errors
from redis.asyncio import Redis

from billing.periods import Period
from billing.quotas.amounts import Amount
from billing.quotas.clock import PeriodCache, epoch_us
from billing.quotas.limits import Level, LimitKind, NodeLimits, check_chain
from billing.quotas.redis_scripts import ScriptRunner
from billing.quotas.rolling import US_PER_S, RollingWindow
from billing.quotas.store import (
    DEFAULT_RESERVATION_TTL_S,
    DEFAULT_TOMBSTONE_TTL_S,
    NodeUsage,
    QuotaStoreUnavailable,
    RateFigures,
    Refused,
    Reserved,
)
from billing.quotas.thresholds import BudgetUnit, ThresholdCrossed

OPERATIONS = ("reserve", "settle", "top_up", "release", "rebuild", "read")
# Committed counters outlive their period by this much, so a late reconcile can still read them.
_COUNTER_GRACE = timedelta(days=35)
# Distinct chains remembered encoded (one per key in use, times the limit changes since).
_MAX_ENCODED_CHAINS = 10_000
# Errors that mean "the store cannot answer now" (down, loading, failing over), as opposed to a
# bug such as a script error, which propagates as is.
_UNAVAILABLE = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.ClusterDownError,
    redis_errors.TryAgainError,
    redis_errors.ReadOnlyError,
)


def load_script(operation: str) -> str:
    """The Lua source of ``operation``: the shared helpers followed by the operation itself."""
    lua = files("billing.quotas").joinpath("lua")
    common = lua.joinpath("_common.lua").read_text(encoding="utf-8")
    return common + lua.joinpath(f"{operation}.lua").read_text(encoding="utf-8")


class RedisQuotaStore:
    """A :class:`~billing.quotas.store.QuotaStore` shared through Redis by every gateway process.

    ``redis_client`` is owned by the caller (``close`` does not close it); the scripts run on
    connections made with its settings (see :class:`ScriptRunner`), which ``close`` closes.
    Connection, timeout, cluster-down and read-only-replica errors are raised as
    :class:`QuotaStoreUnavailable`. Give the client a short connect timeout: every request waits
    that long when Redis is unreachable.
    """

    def __init__(
        self,
        redis_client: Redis,
        org: str = "default",
        tz: ZoneInfo | None = None,
        reservation_ttl_s: int = DEFAULT_RESERVATION_TTL_S,
        tombstone_ttl_s: int = DEFAULT_TOMBSTONE_TTL_S,
    ) -> None:
        if not org or any(ch in "{}" or ch.isspace() for ch in org):
            raise ValueError("org must be non-empty, without braces or whitespace")
        if reservation_ttl_s < 1 or tombstone_ttl_s < 1:
            raise ValueError("TTLs must be at least one second")
        self._redis = redis_client
        self._prefix = f"hygie:{{{org}}}:"
        self._deadlines = self._prefix + "dl"
        self._periods = PeriodCache(tz or ZoneInfo("Europe/Paris"))
        self._ttl_us = reservation_ttl_s * US_PER_S
        # Wall-clock garbage collection only: a finished reservation is remembered this long.
        self._tombstone_s = tombstone_ttl_s
        self._scripts = ScriptRunner(redis_client, {name: load_script(name) for name in OPERATIONS})
        # Chains are built per request from the same few limits: encode each one once.
        self._encoded_chains: dict[tuple[NodeLimits, ...], _EncodedChain] = {}

    @property
    def prefix(self) -> str:
        """The key prefix, hash tag included, of this organisation's keys."""
        return self._prefix

    async def reserve(
        self, request_id: str, chain: Sequence[NodeLimits], amount: Amount, now: datetime
    ) -> Reserved | Refused:
        """Hold ``amount`` at every node of ``chain`` at once, or nowhere."""
        check_chain(chain)
        encoded = self._encoded(chain)
        now_us = epoch_us(now)
        reply = await self._run(
            "reserve",
            [self._reservation_key(request_id), self._deadlines],
            [
                self._prefix,
                request_id,
                now_us,
                now_us // US_PER_S,
                self._ttl_us,
                self._tombstone_s,
                amount.micro_eur,
                amount.tokens,
                encoded.json,
                *self._period_keys(now),
                *encoded.fields,
            ],
        )
        status = _text(reply[0])
        if status == "no":
            node = chain[int(reply[1]) - 1]
            reason = LimitKind(_text(reply[2]))
            retry = int(reply[4])
            return Refused(
                request_id,
                node.level,
                node.node_id,
                reason,
                int(reply[3]),
                None if reason in (LimitKind.BUDGET_EUR, LimitKind.BUDGET_TOKENS) else retry,
            )
        if status == "dup":
            requests, tokens = _figures(_text(reply[3]))
            held = Amount(int(reply[1]), int(reply[2]))
            return Reserved(request_id, held, requests, tokens, duplicate=True)
        requests, tokens = _figures(_text(reply[1]))
        return Reserved(request_id, amount, requests, tokens)

    async def settle(
        self, request_id: str, actual: Amount, now: datetime
    ) -> list[ThresholdCrossed]:
        """Commit ``actual`` to the window containing ``now``; return newly crossed thresholds.

        Unknown or already settled/released ids are a no-op. A reservation that expired is still
        committed (the spend happened; the ledger has it) but has no hold left to release.
        """
        return await self.settle_many([(request_id, actual)], now)

    async def settle_many(
        self, settlements: Sequence[tuple[str, Amount]], now: datetime
    ) -> list[ThresholdCrossed]:
        """:meth:`settle` for several requests in one script call (each settled as if alone)."""
        if not settlements:
            return []
        now_us = epoch_us(now)
        keys = [self._deadlines]
        args: list[str | int | bytes] = [
            self._prefix,
            now_us,
            now_us // US_PER_S,
            self._tombstone_s,
            *self._period_keys(now),
            *self._counter_gcs(now),
        ]
        for request_id, actual in settlements:
            keys.append(self._reservation_key(request_id))
            args += (request_id, actual.micro_eur, actual.tokens)
        return _crossings(await self._run("settle", keys, args))

    async def top_up(self, request_id: str, extra: Amount, now: datetime) -> bool:
        """Add ``extra`` to a live hold at every node at once; ``False`` if any budget refuses.

        Rate limits do not refuse a top-up (the tokens are being generated anyway) but TPM is
        charged for them. An accepted top-up restarts the reservation's TTL.
        """
        now_us = epoch_us(now)
        reply = await self._run(
            "top_up",
            [self._reservation_key(request_id), self._deadlines],
            [
                self._prefix,
                request_id,
                now_us,
                now_us // US_PER_S,
                self._ttl_us,
                extra.micro_eur,
                extra.tokens,
                *self._period_keys(now),
            ],
        )
        return int(reply) == 1

    async def release(self, request_id: str) -> None:
        """Give a live hold back (and its tokens to TPM) without committing anything."""
        await self._run(
            "release",
            [self._reservation_key(request_id), self._deadlines],
            [self._prefix, request_id, self._tombstone_s],
        )

    async def rebuild(self, period_spend: Mapping[str, Amount], period: Period) -> None:
        """Replace the committed spend of ``period`` for the given nodes with the ledger's.

        Threshold flags are kept: an alert already sent is not sent again.
        """
        if not period_spend:
            return
        gc_s = max(int((period.end - period.start + _COUNTER_GRACE).total_seconds()), 1)
        args: list[str | int | bytes] = [self._prefix, f"{period.kind.value}:{period.key}", gc_s]
        for node_id, amount in period_spend.items():
            args.extend((node_id, amount.micro_eur, amount.tokens))
        await self._run("rebuild", [self._deadlines], args)

    async def read(self, node_id: str, window: Period | RollingWindow, now: datetime) -> NodeUsage:
        """Committed spend of ``node_id`` in ``window`` and what it holds now."""
        now_us = epoch_us(now)
        if isinstance(window, Period):
            selector = ["c", f"{window.kind.value}:{window.key}"]
        else:
            selector = ["r", str(window.seconds)]
        reply = await self._run(
            "read",
            [self._deadlines],
            [self._prefix, node_id, now_us, now_us // US_PER_S, *selector],
        )
        ce, ct, re, rt, inflight = (int(value) for value in reply)
        return NodeUsage(Amount(ce, ct), Amount(re, rt), inflight)

    async def close(self) -> None:
        """Close the script connections (the Redis client itself belongs to the caller)."""
        await self._scripts.close()

    def _reservation_key(self, request_id: str) -> str:
        return f"{self._prefix}res:{request_id}"

    def _encoded(self, chain: Sequence[NodeLimits]) -> _EncodedChain:
        key = tuple(chain)
        encoded = self._encoded_chains.get(key)
        if encoded is None:
            if len(self._encoded_chains) >= _MAX_ENCODED_CHAINS:
                self._encoded_chains.clear()  # limits changed many times: start afresh
            encoded = self._encoded_chains[key] = _EncodedChain(key)
        return encoded

    def _period_keys(self, now: datetime) -> list[str]:
        return [period.key for period in self._periods.current_all(now)]

    def _counter_gcs(self, now: datetime) -> list[int]:
        return [
            int((period.end - now + _COUNTER_GRACE).total_seconds())
            for period in self._periods.current_all(now)
        ]

    async def _run(self, operation: str, keys: list[str], args: Sequence[str | int | bytes]) -> Any:
        try:
            return await self._scripts.run(operation, keys, args)
        except _UNAVAILABLE as exc:
            _unavailable(operation, exc)


def _crossings(reply: Any) -> list[ThresholdCrossed]:
    return [
        ThresholdCrossed(
            node_id=_text(node_id),
            level=Level(_text(level)),
            threshold_pct=int(pct),
            period_key=_text(period_key),
            unit=BudgetUnit(_text(unit)),
            spent=int(spent),
            budget=int(budget),
        )
        for node_id, level, pct, period_key, unit, spent, budget in reply
    ]


def _unavailable(operation: str, exc: Exception) -> NoReturn:
    # The message names the operation only: connection details can carry credentials.
    raise QuotaStoreUnavailable(f"quota store unreachable during {operation}") from exc


class _EncodedChain:
    """A chain as the reserve script takes it: JSON (stored with the reservation, for settle
    and purge) and the same limits as flat arguments (read by reserve without decoding)."""

    __slots__ = ("fields", "json")

    def __init__(self, chain: Sequence[NodeLimits]) -> None:
        nodes = [_node_fields(node) for node in chain]
        self.json: bytes = orjson.dumps(
            [
                {**fields, "th": list(node.thresholds_pct)}
                for node, fields in zip(chain, nodes, strict=True)
            ]
        )
        self.fields: list[str | int] = [value for node in nodes for value in node.values()]


def _node_fields(node: NodeLimits) -> dict[str, str | int]:
    # reserve.lua reads the flat arguments in this order.
    return {
        "id": node.node_id,
        "lv": node.level.value,
        "be": -1 if node.budget_micro_eur is None else node.budget_micro_eur,
        "bt": -1 if node.budget_tokens is None else node.budget_tokens,
        "pk": "" if node.period is None else node.period.value,
        "rw": node.rolling_window_s or 0,
        "rpm": node.rpm or 0,
        "tpm": node.tpm or 0,
        "mc": node.max_concurrent or 0,
    }


def _figures(encoded: str) -> tuple[RateFigures | None, RateFigures | None]:
    values = [int(part) for part in encoded.split(",")]
    requests = None if values[0] < 0 else RateFigures(values[0], values[1], values[2])
    tokens = None if values[3] < 0 else RateFigures(values[3], values[4], values[5])
    return requests, tokens


def _text(value: bytes | str | int) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return str(value)
