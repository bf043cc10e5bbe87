"""Console sign-ins through the identity provider that have started and not yet come back.

Each start of the authorization code flow keeps, server-side and keyed by its ``state``, the
``nonce`` and PKCE verifier it sent and a digest of a random value held in the browser's cookie.
The callback takes the entry out (single use): a replayed callback, one from another browser or
one the gateway never started finds nothing or the wrong browser, and is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.identity.config import IdentityConfig, IssuerConfig
from gateway.identity.discovery import ProviderMetadata
from gateway.identity.provider_http import ProviderHttp, ProviderUnavailable
from gateway.identity.signing_keys import IssuerKeys

PENDING_TTL_S = 600
"""Time a person has to sign in at the provider (its login page, a second factor)."""
MAX_PENDING = 10_000
"""Bound on started sign-ins: past it the oldest is forgotten (a flood cannot grow memory)."""
MAX_STATE_CHARS = 200
RETRY_AFTER_S = 10
"""Least time between two tries to reach a provider that did not answer."""


@dataclass(frozen=True, slots=True)
class PendingLogin:
    """What the callback of one started sign-in must match."""

    provider: int
    nonce: str
    verifier: str
    browser_digest: bytes
    redirect_uri: str
    expires_at: float


def digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of ``verifier`` (RFC 7636)."""
    return base64.urlsafe_b64encode(digest(verifier)).rstrip(b"=").decode()


class PendingLogins:
    """Started sign-ins by ``state``, in memory; each can be taken once."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._pending: dict[str, PendingLogin] = {}

    def start(self, provider: int, browser: str, redirect_uri: str) -> tuple[str, PendingLogin]:
        """A new ``state`` and its entry (fresh nonce and verifier) for ``browser``'s cookie."""
        self._prune()
        while len(self._pending) >= MAX_PENDING:
            self._pending.pop(next(iter(self._pending)))
        state = secrets.token_urlsafe(32)
        pending = PendingLogin(
            provider=provider,
            nonce=secrets.token_urlsafe(32),
            verifier=secrets.token_urlsafe(48),
            browser_digest=digest(browser),
            redirect_uri=redirect_uri,
            expires_at=self._clock() + PENDING_TTL_S,
        )
        self._pending[state] = pending
        return state, pending

    def take(self, state: str, browser: str) -> PendingLogin | None:
        """The entry of ``state`` when it is alive and started by ``browser``; it is gone
        afterwards either way, so a callback cannot be tried twice."""
        if not state or len(state) > MAX_STATE_CHARS:
            return None
        pending = self._pending.pop(state, None)
        if pending is None or pending.expires_at < self._clock():
            return None
        if not hmac.compare_digest(pending.browser_digest, digest(browser)):
            return None
        return pending

    def __len__(self) -> int:
        return len(self._pending)

    def _prune(self) -> None:
        now = self._clock()
        for state in [s for s, p in self._pending.items() if p.expires_at < now]:
            del self._pending[state]


@dataclass(frozen=True, slots=True)
class ConsoleProvider:
    """An issuer the console signs people in with (it has a console client id)."""

    index: int
    issuer: IssuerConfig
    client_id: str

    @property
    def label(self) -> str:
        return self.issuer.console_label or self.issuer.issuer


class ConsoleProviders:
    """The configured issuers with a console client, and their signing keys (fetched lazily
    through the gateway's provider HTTP seam, cached and refreshed as for API tokens)."""

    def __init__(self, config: IdentityConfig) -> None:
        self._config = config
        self.all = [
            ConsoleProvider(index, issuer, issuer.console_client_id)
            for index, issuer in enumerate(config.issuers)
            if issuer.console_client_id
        ]
        self._keys: dict[int, IssuerKeys] = {}
        self._failed_at: dict[int, float] = {}

    def get(self, index: str | int | None) -> ConsoleProvider | None:
        """The provider numbered ``index`` (as sent back by a browser), or None."""
        for provider in self.all:
            if str(provider.index) == str(index):
                return provider
        return None

    def of_issuer(self, issuer: str) -> ConsoleProvider | None:
        return next((p for p in self.all if p.issuer.issuer == issuer), None)

    async def metadata(self, provider: ConsoleProvider, http: ProviderHttp) -> ProviderMetadata:
        """The provider's discovery metadata (fetched once). After a failure it is not asked
        again for ``RETRY_AFTER_S``: a stream of clicks on the sign-in button must not become
        a stream of requests to a provider that is down, each waiting for its timeout."""
        failed_at = self._failed_at.get(provider.index)
        if failed_at is not None and time.monotonic() - failed_at < RETRY_AFTER_S:
            raise ProviderUnavailable(f"did not answer less than {RETRY_AFTER_S} s ago")
        try:
            return await self.keys(provider, http).provider_metadata()
        except ProviderUnavailable:
            self._failed_at[provider.index] = time.monotonic()
            raise

    def keys(self, provider: ConsoleProvider, http: ProviderHttp) -> IssuerKeys:
        """The provider's keys and discovery metadata (one cache per provider)."""
        keys = self._keys.get(provider.index)
        if keys is None:
            keys = IssuerKeys(
                provider.issuer,
                http,
                min_refresh_s=self._config.jwks_min_refresh_s,
                max_age_s=self._config.jwks_max_age_s,
            )
            self._keys[provider.index] = keys
        return keys
