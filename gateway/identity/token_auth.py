"""Bearer tokens of the identity provider → :class:`Principal`, cached by the token's digest.

A validated token is kept until it expires, so the hot path checks a signature once per token,
not once per request: a cache hit costs one SHA-256 and one dictionary lookup, as for a key.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable

from billing.directory import Department, Principal, User
from gateway.errors import InvalidApiKey
from gateway.identity.claims import Identity
from gateway.identity.introspection import Introspector
from gateway.identity.tokens import TokenVerifier, looks_like_jwt

# Brings the directory in step with an identity: (username, department, role, display name).
SyncFn = Callable[[Identity], Awaitable[tuple[User, Department]]]


class TokenAuthenticator:
    """Resolves identity-provider tokens (JWT or opaque) to principals."""

    def __init__(
        self,
        verifier: TokenVerifier,
        introspector: Introspector,
        sync: SyncFn,
        *,
        cache_size: int,
    ) -> None:
        self._verifier = verifier
        self._introspector = introspector
        self._sync = sync
        self._cache_size = cache_size
        self._cache: dict[bytes, tuple[float, Principal]] = {}

    def accepts_opaque(self) -> bool:
        return self._introspector.enabled

    def cached(self, token: str) -> Principal | None:
        """The principal of a token validated before and not expired (no I/O)."""
        hit = self._cache.get(hashlib.sha256(token.encode()).digest())
        if hit is not None and hit[0] > time.time():
            return hit[1]
        return None

    async def principal(self, token: str) -> Principal:
        """The principal behind ``token``; raises ``InvalidApiKey`` (401) or ``Forbidden``."""
        digest = hashlib.sha256(token.encode()).digest()
        hit = self._cache.get(digest)
        if hit is not None:
            if hit[0] > time.time():
                return hit[1]
            del self._cache[digest]
        if looks_like_jwt(token):
            identity = await self._verifier.verify(token)
        elif self._introspector.enabled:
            identity = await self._introspector.identity(token)
        else:  # neither a key nor a JWT, and no provider to ask: a mistyped key, most likely
            raise InvalidApiKey("Incorrect API key provided.")
        principal = await self.principal_of(identity)
        if len(self._cache) >= self._cache_size:
            self._evict()
        self._cache[digest] = (identity.expires_at, principal)
        return principal

    async def principal_of(self, identity: Identity) -> Principal:
        """The principal of an identity vouched for by a provider (user synced on the way)."""
        user, department = await self._sync(identity)
        return Principal(
            key_id=None,
            user_id=user.id,
            username=user.username,
            role=identity.role,
            department_id=department.id,
            department=department.name,
            default_data_class=department.default_data_class,
            use_case=identity.use_case,
            credential=f"token:{identity.issuer}#{identity.subject}",
            roles=identity.roles,
        )

    def _evict(self) -> None:
        now = time.time()
        for digest, (expires_at, _) in list(self._cache.items()):
            if expires_at <= now:
                del self._cache[digest]
        if len(self._cache) >= self._cache_size:
            self._cache.clear()  # all alive: start over rather than grow without bound
