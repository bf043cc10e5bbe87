"""An issuer's signing keys (its JWKS), cached, refreshed on an unknown ``kid``.

A refresh happens at most once per ``min_refresh_s`` (a stream of tokens with made-up ``kid``
values must not turn the gateway into a flood against the provider), and a failed refresh keeps
the last good keys: tokens signed with them are still served while the provider is down.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import jwt

from gateway.identity.config import IssuerConfig
from gateway.identity.discovery import ProviderMetadata, discover
from gateway.identity.provider_http import ProviderHttp, ProviderUnavailable

log = logging.getLogger("hygie.identity")


class IssuerKeys:
    """The verification keys of one issuer, by ``kid``."""

    def __init__(
        self, issuer: IssuerConfig, http: ProviderHttp, *, min_refresh_s: float, max_age_s: float
    ) -> None:
        self.issuer = issuer
        self._http = http
        self._min_refresh_s = min_refresh_s
        self._max_age_s = max_age_s
        self._keys: dict[str, Any] = {}
        self._fetched_at = -float("inf")
        self._tried_at = -float("inf")
        self._lock = asyncio.Lock()
        self.metadata: ProviderMetadata | None = None

    async def key(self, kid: str | None) -> Any | None:
        """The public key for ``kid`` (a ``cryptography`` key object), or None if unknown."""
        found = self._find(kid)
        stale = time.monotonic() - self._fetched_at > self._max_age_s
        if found is not None and not stale:
            return found
        await self.refresh()
        return self._find(kid)

    def _find(self, kid: str | None) -> Any | None:
        if kid is None:
            # Without a kid, only an issuer with a single key is unambiguous.
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    async def refresh(self) -> None:
        """Fetch the key set again unless it was tried within ``min_refresh_s``."""
        async with self._lock:
            if time.monotonic() - self._tried_at < self._min_refresh_s:
                return
            self._tried_at = time.monotonic()
            try:
                if self.metadata is None:
                    self.metadata = await discover(self._http, self.issuer)
                keys = _usable_keys(await self._http.get_json(self.metadata.jwks_uri))
            except ProviderUnavailable as exc:
                log.warning(
                    "identity provider %s unreachable, keeping %d cached keys: %s",
                    self.issuer.issuer,
                    len(self._keys),
                    exc,
                )
                return
            self._keys, self._fetched_at = keys, time.monotonic()

    async def provider_metadata(self) -> ProviderMetadata:
        """The issuer's discovery metadata (fetched once)."""
        if self.metadata is None:
            self.metadata = await discover(self._http, self.issuer)
        return self.metadata


def _usable_keys(document: dict[str, Any]) -> dict[str, Any]:
    """Signature keys of a JWKS by kid; keys meant for encryption or malformed are skipped."""
    keys: dict[str, Any] = {}
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise ProviderUnavailable("the key set has no 'keys' list")
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        if entry.get("kty") == "oct":
            continue  # a shared secret is never a verification key here
        try:
            parsed = jwt.PyJWK(entry)
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            continue
        keys[str(entry.get("kid", ""))] = parsed.key
    return keys
