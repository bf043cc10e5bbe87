"""Who is calling: API-key authentication for staff, and the admin credential."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from billing.directory import KeyOwner
from gateway.api_keys import hash_key
from gateway.errors import InvalidApiKey

LookupFn = Callable[[str], Awaitable[KeyOwner | None]]

_MAX_CACHED_KEYS = 50_000


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class Authenticator:
    """Resolves API keys to their owners, caching verified keys for ``ttl_s`` seconds.

    The cache bounds how long a revoked key keeps working on another gateway replica; revoking
    through this process invalidates it here at once (:meth:`forget`).
    """

    def __init__(self, lookup: LookupFn, *, ttl_s: float) -> None:
        self._lookup = lookup
        self._ttl_s = ttl_s
        self._cache: dict[str, tuple[float, KeyOwner]] = {}

    async def authenticate(self, authorization: str | None) -> KeyOwner:
        """The owner of the presented key; raises :class:`InvalidApiKey` otherwise."""
        token = bearer_token(authorization)
        if token is None:
            raise InvalidApiKey(
                "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'."
            )
        digest = hash_key(token)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        owner = await self._lookup(digest)
        if owner is None:
            self._cache.pop(digest, None)
            raise InvalidApiKey("Incorrect API key provided.")
        if len(self._cache) >= _MAX_CACHED_KEYS:
            self._cache.clear()
        self._cache[digest] = (now + self._ttl_s, owner)
        return owner

    def forget(self, key_id: str) -> None:
        """Drop a key from the cache (after it was revoked)."""
        for digest, (_, owner) in list(self._cache.items()):
            if owner.key_id == key_id:
                del self._cache[digest]
