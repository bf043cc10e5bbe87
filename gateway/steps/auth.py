"""Who is calling: an API key or an identity-provider token, resolved to one Principal.

Keys are told from tokens by their ``hyg_sk_`` prefix, without any I/O; whatever the credential,
the rest of the gateway sees only the :class:`Principal`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from billing.directory import Principal
from gateway.errors import InvalidApiKey
from gateway.identity.front_ends import FrontEnds
from gateway.identity.token_auth import TokenAuthenticator
from gateway.steps.api_keys import KEY_PREFIX, hash_key

LookupFn = Callable[[str], Awaitable[Principal | None]]

_MAX_CACHED_KEYS = 50_000

log = logging.getLogger("hygie.auth")


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class Authenticator:
    """Resolves keys (and, through ``tokens``, sign-on tokens) to principals, caching verified
    keys for ``ttl_s`` seconds.

    An active key whose cache entry expired is served from the cache while it is checked again
    in the background (a database lookup costs milliseconds; it stays off the request path).
    So a key revoked on another gateway replica stops working within ``ttl_s`` plus the time of
    that check; revoking through this process invalidates it here at once (:meth:`forget`).
    Entries unused for ten times ``ttl_s`` are looked up again before use.
    """

    def __init__(
        self,
        lookup: LookupFn,
        *,
        ttl_s: float,
        tokens: TokenAuthenticator | None = None,
        front_ends: FrontEnds | None = None,
    ) -> None:
        self._lookup = lookup
        self._tokens = tokens
        self._front_ends = front_ends
        self._ttl_s = ttl_s
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._checking: dict[str, asyncio.Task[None]] = {}

    async def authenticate(
        self, authorization: str | None, headers: Mapping[str, str] | None = None
    ) -> Principal:
        """The principal of the presented key or token; raises :class:`InvalidApiKey`
        otherwise (or :class:`Forbidden` for a token naming no usable department).

        With ``headers``, a key marked as a trusted chat front-end may name the end user it
        acts for (:mod:`gateway.identity.front_ends`); for any other credential they are
        ignored. The admin API passes none: a front-end never acts as an administrator.
        """
        token = bearer_token(authorization)
        if token is None:
            raise InvalidApiKey(
                "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'."
            )
        if self._tokens is not None and not token.startswith(KEY_PREFIX):
            return await self._tokens.principal(token)
        principal = await self._key_owner(token)
        if principal.front_end is None or headers is None or self._front_ends is None:
            return principal
        return await self._front_ends.principal(principal, headers)

    async def _key_owner(self, token: str) -> Principal:
        digest = hash_key(token)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None:
            expires_at, known = cached
            if expires_at > now:
                return known
            if expires_at + 9 * self._ttl_s > now:
                self._check_later(digest)
                return known
        owner = await self._lookup(digest)
        if owner is None:
            self._cache.pop(digest, None)
            raise InvalidApiKey("Incorrect API key provided.")
        if len(self._cache) >= _MAX_CACHED_KEYS:
            self._cache.clear()
        self._cache[digest] = (now + self._ttl_s, owner)
        return owner

    def knows(self, authorization: str | None) -> bool:
        """True when this key or token was verified recently (no I/O: the throttle of failed
        authentications lets such requests through)."""
        token = bearer_token(authorization)
        if token is None:
            return False
        if self._tokens is not None and not token.startswith(KEY_PREFIX):
            return self._tokens.cached(token) is not None
        cached = self._cache.get(hash_key(token))
        return cached is not None and cached[0] + 9 * self._ttl_s > time.monotonic()

    def _check_later(self, digest: str) -> None:
        if digest not in self._checking:
            task = asyncio.create_task(self._check(digest))
            self._checking[digest] = task
            task.add_done_callback(lambda _: self._checking.pop(digest, None))

    async def _check(self, digest: str) -> None:
        try:
            owner = await self._lookup(digest)
        # A background check: nobody else would hear of its failure.
        except Exception as exc:  # noqa: BLE001
            # The key stays served from the cache until its grace period ends.
            log.warning("API key check postponed: %s", type(exc).__name__)
            return
        if owner is None:
            self._cache.pop(digest, None)  # revoked: the next request is refused
        else:
            self._cache[digest] = (time.monotonic() + self._ttl_s, owner)

    def forget(self, key_id: str) -> None:
        """Drop a key from the cache (after it was revoked)."""
        for digest, (_, owner) in list(self._cache.items()):
            if owner.key_id == key_id:
                del self._cache[digest]
