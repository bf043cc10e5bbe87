"""The ``QuotaStore`` protocol, its result types, and the guarantees every backend keeps.

Reserve, then settle
--------------------
Before forwarding a request the gateway calls :meth:`QuotaStore.reserve` with the request's chain
(key, user, team, department, organisation) and the worst-case :class:`Amount`. In one atomic step
the store checks every node and either holds the amount at every node or holds nothing anywhere
and returns a :class:`Refused`. When the response ends, :meth:`QuotaStore.settle` commits the
actual amount and releases the hold. Reservations are keyed by request id: a second reserve with
the same id holds nothing new (``Reserved.duplicate``), a second settle is a no-op. A reservation
that is neither settled nor released by ``reserve_time + reservation_ttl_s`` (the last accepted
top-up restarts that clock) expires: its hold is released, never committed. Expiry is evaluated
on the ``now`` passed to each call, not on the wall clock.

Which period is charged
-----------------------
Committed spend goes to the window that contains the **settle** instant: a request reserved at
23:59:59 Paris time and settled after midnight is charged to the new day. Holds belong to the
node, not to a period, so a hold made before midnight already counts against the new day's
budget; that is what keeps the bound below true across rollovers (including the 23- and 25-hour
days of the daylight-saving changes, which come from :mod:`billing.periods`).

Overshoot bound
---------------
For a node with budget ``B`` (in micro-euros or tokens, each on its own) and a window ``W``, let
``C`` be the spend committed in ``W`` and ``R`` the amounts held by live reservations at the node.
Every operation keeps ``C + R <= B``, except a settle whose actual amount exceeds its hold:

* reserve and top-up admit ``a`` only if ``C + R + a <= B`` at every node, checked and applied in
  one atomic step (one Lua script; one event-loop step in memory);
* a settle with ``actual <= held`` lowers ``R`` by ``held`` and raises ``C`` by ``actual``;
* release and expiry lower ``R``; a window rollover lowers ``C`` (a new calendar period starts at
  0, old rolling buckets age out); :meth:`QuotaStore.rebuild` imports the ledger's figure as is.

Hence, exactly, for every node and window::

    committed(W) <= B + sum over requests r settled in W of max(0, actual_r - held_r)

where ``held_r`` is the reservation plus its accepted top-ups, and ``held_r = 0`` for a settle that
arrives after its reservation expired (the spend happened, so it is committed, but its hold was
already released). When every response stays within its reservation (and settles before expiry)
the overshoot is **zero**.

With top-ups: a gateway that forwards output only within its hold, calls
``top_up(request_id, extra)`` when the next chunk would go beyond it, and ends the stream when the
top-up is refused (or when it does not top up at all) still pays upstream for that last chunk,
generated but not forwarded. So ``actual_r - held_r`` is at most the size ``c`` of one chunk (in
tokens; ``c`` times the output price in micro-euros), and the overshoot of a window is at most
``c * k``, ``k`` being the number of streams so cut that settle in the window; once committed
spend exceeds ``B``, every later reserve and top-up in the window is refused.
``tests/quotas/test_overshoot.py`` reaches the bound exactly. An accepted top-up also restarts the
reservation's TTL (a top-up of ``Amount(0, 0)`` is a heartbeat).

Store outages
-------------
A backend that cannot reach its shared state raises :class:`QuotaStoreUnavailable`; the caller
then asks :func:`billing.quotas.outage.decide_on_outage` whether to let the request through.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from billing.periods import Period
from billing.quotas.amounts import Amount
from billing.quotas.limits import Level, LimitKind, NodeLimits
from billing.quotas.rolling import RollingWindow
from billing.quotas.thresholds import ThresholdCrossed

DEFAULT_RESERVATION_TTL_S = 600
# How long a finished (settled, released or expired) reservation is remembered, so that a retried
# reserve or settle of the same request id stays a no-op.
DEFAULT_TOMBSTONE_TTL_S = 3_600


class QuotaStoreUnavailable(Exception):
    """The shared quota store could not be reached; the fail policy decides what happens."""


@dataclass(frozen=True, slots=True)
class RateFigures:
    """One rate limit as the ``x-ratelimit-*`` headers show it.

    ``remaining``: units (requests or tokens) that could still be admitted right now;
    ``reset_s``: seconds until the whole ``limit`` is available again.
    """

    limit: int
    remaining: int
    reset_s: int


@dataclass(frozen=True, slots=True)
class Reserved:
    """The amount is held at every node of the chain.

    ``requests`` and ``tokens`` describe the most constrained RPM and TPM limit of the chain (the
    one with the fewest units left), or ``None`` when no node has one. ``duplicate`` is true when
    the id was already known: nothing new was held and the figures are those of the first call.
    """

    request_id: str
    held: Amount
    requests: RateFigures | None
    tokens: RateFigures | None
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class Refused:
    """Nothing was held. Names the refusing node and its own limit only, never another's figures.

    When several limits refuse, a budget wins over concurrency, which wins over RPM/TPM (a client
    told to retry in 3 s would be refused again by an exhausted budget); among rate limits the
    longest ``retry_after_s`` wins; ties go to the earliest node of the chain.
    ``retry_after_s`` (1..60) is set for ``rpm``, ``tpm`` and ``concurrency``, ``None`` for budgets.
    """

    request_id: str
    level: Level
    node_id: str
    reason: LimitKind
    limit: int
    retry_after_s: int | None


@dataclass(frozen=True, slots=True)
class NodeUsage:
    """A node's counters: spend committed in a window, and what live reservations hold."""

    committed: Amount
    reserved: Amount
    in_flight: int


class QuotaStore(Protocol):
    """Budget, rate and concurrency counters shared by every gateway process."""

    async def reserve(
        self, request_id: str, chain: Sequence[NodeLimits], amount: Amount, now: datetime
    ) -> Reserved | Refused:
        """Hold ``amount`` at every node of ``chain`` at once, or nowhere."""
        ...

    async def settle(
        self, request_id: str, actual: Amount, now: datetime
    ) -> list[ThresholdCrossed]:
        """Commit ``actual`` to the window containing ``now``; return newly crossed thresholds."""
        ...

    async def settle_many(
        self, settlements: Sequence[tuple[str, Amount]], now: datetime
    ) -> list[ThresholdCrossed]:
        """:meth:`settle` for several ``(request_id, actual)`` at once (fewer round trips)."""
        ...

    async def top_up(self, request_id: str, extra: Amount, now: datetime) -> bool:
        """Add ``extra`` to a live hold at every node at once; ``False`` if any budget refuses."""
        ...

    async def release(self, request_id: str) -> None:
        """Give a live hold back without committing anything (the request never ran)."""
        ...

    async def rebuild(self, period_spend: Mapping[str, Amount], period: Period) -> None:
        """Replace the committed spend of ``period`` for the given nodes with the ledger's."""
        ...

    async def read(self, node_id: str, window: Period | RollingWindow, now: datetime) -> NodeUsage:
        """Committed spend of ``node_id`` in ``window`` and what it holds now."""
        ...

    async def close(self) -> None:
        """Release the store's resources."""
        ...
