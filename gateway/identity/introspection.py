"""Opaque access tokens, checked with the provider's RFC 7662 introspection endpoint.

Only issuers configured with introspection credentials are asked. An answer is trusted as the
token's claims once ``active`` is true and its audience, client and type fit, exactly as for a
JWT; the caller caches it (see :mod:`gateway.identity.token_cache`).
"""

from __future__ import annotations

import time
from typing import Any

from gateway.errors import InvalidApiKey
from gateway.identity.claims import Identity, identity_of
from gateway.identity.provider_http import ProviderHttp, ProviderUnavailable
from gateway.identity.signing_keys import IssuerKeys

_MAX_OPAQUE_CHARS = 4096


class Introspector:
    """Asks each issuer that allows it whether an opaque token is active."""

    def __init__(self, issuers: list[IssuerKeys], http: ProviderHttp, *, max_cache_s: float):
        self._issuers = [i for i in issuers if i.issuer.introspection_client_id]
        self._http = http
        self._max_cache_s = max_cache_s

    @property
    def enabled(self) -> bool:
        return bool(self._issuers)

    async def identity(self, token: str) -> Identity:
        """The identity behind an active token; raises :class:`InvalidApiKey` otherwise."""
        if len(token) > _MAX_OPAQUE_CHARS or not token.isascii() or not token.isprintable():
            raise InvalidApiKey("Incorrect API key provided.")
        for keys in self._issuers:
            answer = await self._ask(keys, token)
            if answer.get("active") is True:
                return self._identity(answer, keys)
        raise InvalidApiKey("The token is not active.")

    async def _ask(self, keys: IssuerKeys, token: str) -> dict[str, Any]:
        issuer = keys.issuer
        secret = issuer.introspection_client_secret
        try:
            metadata = await keys.provider_metadata()
            if metadata.introspection_endpoint is None:
                return {}
            return await self._http.post_form(
                metadata.introspection_endpoint,
                {"token": token, "token_type_hint": "access_token"},
                user=issuer.introspection_client_id,
                password=secret.get_secret_value() if secret else "",
            )
        except ProviderUnavailable:
            raise InvalidApiKey("The identity provider cannot check this token now.") from None

    def _identity(self, answer: dict[str, Any], keys: IssuerKeys) -> Identity:
        issuer = keys.issuer
        if answer.get("token_type") not in (None, "access_token", "Bearer", "bearer"):
            raise InvalidApiKey("Only access tokens are accepted.")
        # The audience is required, as for a JWT: an answer without one could be about a
        # refresh token or a token for another service (some providers say active for both).
        audience = answer.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if issuer.audience not in audiences:
            raise InvalidApiKey("The token was not issued for this gateway (audience).")
        if answer.get("iss", issuer.issuer) != issuer.issuer:
            raise InvalidApiKey("The token's issuer is not trusted by this gateway.")
        if issuer.client_ids and answer.get("client_id") not in issuer.client_ids:
            raise InvalidApiKey("The token was issued to a client this gateway does not accept.")
        # Cache no longer than the token lives, nor than max_cache_s (revocation shows then).
        horizon = time.time() + self._max_cache_s
        exp = answer.get("exp")
        claims = {**answer, "exp": min(float(exp), horizon) if isinstance(exp, int) else horizon}
        return identity_of(claims, issuer)
