"""Failed authentications, limited per client address before they reach the database.

A request with a missing or wrong key costs a key lookup and a ledger record; a flood of them
would turn into a flood of database writes. Each client address has a token bucket that every
401 of the gateway's own (``WWW-Authenticate: Bearer``) spends: ``burst`` failures at once,
then ``per_minute``. While the bucket is empty, requests from that address are answered
``429 rate_limit_exceeded`` with ``Retry-After`` before anything else runs: no key lookup, no
ledger record (they are counted in the metric ``hygie_auth_throttled_total`` instead). A key
this gateway verified recently still passes, so colleagues behind the same address (a
hospital NAT) keep working while one client misbehaves.

The address is the TCP peer's. ``X-Forwarded-For`` is believed only when the peer is one of the
``trusted_proxies``; then the client is the right-most address not itself a trusted proxy.
IPv6 clients are counted per /64, the block one host usually controls.
"""

from __future__ import annotations

import functools
import ipaddress
import math
import time
from collections.abc import Callable, Iterable, Sequence

from prometheus_client.metrics_core import CounterMetricFamily, Metric
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import RateLimited, error_response

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_OVERFLOW = "*"  # shared bucket of new addresses while the table is full
_MAX_FORWARDED_HOPS = 16


class FailedAuthLimiter:
    """Token buckets of failed authentications, one per client address (bounded table)."""

    def __init__(
        self,
        *,
        burst: int,
        per_minute: float,
        max_clients: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._burst = float(burst)
        self._rate = per_minute / 60.0
        self._max_clients = max_clients
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, at)
        self._pruned_at = -math.inf
        self.throttled = 0

    def _tokens(self, client: str, now: float) -> float:
        entry = self._buckets.get(client)
        if entry is None:
            return self._burst
        tokens, at = entry
        return min(self._burst, tokens + (now - at) * self._rate)

    def retry_after(self, client: str) -> float | None:
        """Seconds until ``client`` may try again, or None when it may try now."""
        tokens = self._tokens(self._slot(client), self._clock())
        if tokens >= 1.0:
            return None
        return (1.0 - tokens) / self._rate

    def failed(self, client: str) -> None:
        """Spend one token of ``client``'s bucket: it failed to authenticate."""
        now = self._clock()
        if client not in self._buckets and len(self._buckets) >= self._max_clients:
            self._forget_full(now)
        slot = self._slot(client)
        self._buckets[slot] = (self._tokens(slot, now) - 1.0, now)

    def _slot(self, client: str) -> str:
        full = client not in self._buckets and len(self._buckets) >= self._max_clients
        return _OVERFLOW if full else client

    def _forget_full(self, now: float) -> None:
        """Drop buckets that refilled: they say nothing a fresh bucket would not. At most once a
        second, so that a spray of new addresses cannot make every failure walk the table."""
        if now - self._pruned_at < 1.0:
            return
        self._pruned_at = now
        for client in [c for c in self._buckets if self._tokens(c, now) >= self._burst]:
            del self._buckets[client]


def parse_networks(addresses: Iterable[str]) -> tuple[Network, ...]:
    """Trusted proxies as networks (``10.0.0.5``, ``10.0.0.0/8``); ``ValueError`` if invalid."""
    return tuple(ipaddress.ip_network(a.strip(), strict=False) for a in addresses)


def _bucket_key(address: str) -> str:
    if ":" not in address:
        return address
    try:
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    except ValueError:
        return address


@functools.lru_cache(maxsize=4096)  # the peers are a few proxies: parse each once
def _trusted(address: str, proxies: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(scope: Scope, proxies: tuple[Network, ...]) -> str:
    """The client of this request, as its bucket knows it (see the module's docstring)."""
    peer = scope.get("client")
    address = str(peer[0]) if peer else "unknown"
    if proxies and _trusted(address, proxies):
        forwarded = b",".join(v for k, v in scope["headers"] if k == b"x-forwarded-for")
        hops = [h.strip() for h in forwarded.decode("latin-1").split(",") if h.strip()]
        for hop in reversed(hops[-_MAX_FORWARDED_HOPS:]):
            try:
                ipaddress.ip_address(hop)
            except ValueError:
                break  # garbage: keep the last address a trusted proxy vouched for
            address = hop
            if not _trusted(hop, proxies):
                break
    return _bucket_key(address)


def _authorization(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return bytes(value).decode("latin-1")
    return None


class FailedAuthThrottle:
    """ASGI layer: refuses clients that failed to authenticate too often (see the module)."""

    def __init__(
        self,
        app: ASGIApp,
        limiter: FailedAuthLimiter,
        *,
        trusted_proxies: Sequence[Network],
        known_key: Callable[[str | None], bool],
        open_paths: Iterable[str] = (),
    ) -> None:
        """``known_key(authorization)``: True for a key verified recently, without I/O;
        ``open_paths``: routes that never authenticate (health, metrics), never refused."""
        self.app = app
        self._open_paths = frozenset(open_paths)
        self._limiter = limiter
        self._proxies = tuple(trusted_proxies)
        self._known_key = known_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._open_paths:
            await self.app(scope, receive, send)
            return
        if self._known_key(_authorization(scope)):
            # A key verified moments ago (nearly every request): nothing to refuse or watch.
            await self.app(scope, receive, send)
            return
        limiter = self._limiter
        client = client_address(scope, self._proxies)
        wait = limiter.retry_after(client)
        if wait is not None:
            limiter.throttled += 1
            error = RateLimited(
                "Too many failed authentications from your address; retry later.",
                retry_after_s=math.ceil(wait),
                headers={},
            )
            await error_response(error)(scope, receive, send)
            return

        async def watch(message: Message) -> None:
            # Only the gateway's own refusals carry the challenge; a model server's 401 passed
            # through to a rightful caller is no failed authentication of theirs.
            if (
                message["type"] == "http.response.start"
                and message["status"] == 401
                and any(name == b"www-authenticate" for name, _ in message.get("headers", ()))
            ):
                limiter.failed(client)
            await send(message)

        await self.app(scope, receive, watch)


class ThrottleCollector:
    """Exposes how many requests the throttle refused, read at each scrape."""

    def __init__(self, limiter: FailedAuthLimiter) -> None:
        self._limiter = limiter

    def describe(self) -> Iterable[Metric]:
        return self._families(None)

    def collect(self) -> Iterable[Metric]:
        return self._families(self._limiter.throttled)

    @staticmethod
    def _families(value: int | None) -> list[Metric]:
        return [
            CounterMetricFamily(
                "hygie_auth_throttled",
                "Requests refused (429) after too many failed authentications from their "
                "address; they reach neither the database nor the ledger.",
                value=value,
            )
        ]
