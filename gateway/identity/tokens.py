"""Verifying the identity provider's JWT access tokens: signature, issuer, audience, client.

Every check is a refusal with the same 401 (OpenAI's ``invalid_api_key`` shape); the message
says which check failed, which tells an honest caller what to fix and an attacker nothing new
(the rules are public, the keys are not).
"""

from __future__ import annotations

import re
from typing import Any

import jwt

from gateway.errors import InvalidApiKey
from gateway.identity.claims import Identity, identity_of
from gateway.identity.config import IssuerConfig
from gateway.identity.signing_keys import IssuerKeys

# header.payload.signature in base64url: the shape of a JWS compact serialisation.
_JWT_SHAPE = re.compile(r"^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*$")
MAX_TOKEN_CHARS = 16 * 1024


def looks_like_jwt(token: str) -> bool:
    """True for something shaped like a signed JWT (cheap: no decoding)."""
    return len(token) <= MAX_TOKEN_CHARS and _JWT_SHAPE.match(token) is not None


class TokenVerifier:
    """Checks JWTs against the configured issuers' keys and rules."""

    def __init__(self, issuers: dict[str, IssuerKeys]) -> None:
        self._issuers = issuers

    async def verify(self, token: str) -> Identity:
        """The identity a valid token carries; raises :class:`InvalidApiKey` otherwise."""
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise InvalidApiKey("The token is malformed.") from None
        keys = self._issuers.get(str(unverified.get("iss")))
        if keys is None:
            raise InvalidApiKey("The token's issuer is not trusted by this gateway.")
        claims = await verified_claims(token, keys, audience=keys.issuer.audience)
        _check_client(claims, keys.issuer)
        return identity_of(claims, keys.issuer)


async def verified_claims(token: str, keys: IssuerKeys, *, audience: str) -> dict[str, Any]:
    """The claims of a JWT signed by ``keys``' issuer for ``audience`` (signature, algorithm,
    issuer, audience, expiry checked); raises :class:`InvalidApiKey` otherwise."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidApiKey("The token is malformed.") from None
    issuer = keys.issuer
    algorithm = header.get("alg")
    if algorithm not in issuer.algorithms:
        raise InvalidApiKey(f"The token's algorithm {algorithm!r} is not accepted.")
    kid = header.get("kid")
    key = await keys.key(kid if isinstance(kid, str) else None)
    if key is None:
        raise InvalidApiKey("The token's signing key is unknown.")
    return _checked_claims(token, key, issuer, audience)


def _checked_claims(token: str, key: Any, issuer: IssuerConfig, audience: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=list(issuer.algorithms),
            audience=audience,
            issuer=issuer.issuer,
            leeway=issuer.leeway_s,
            options={"require": ["exp", "iss", "aud", "sub"], "strict_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidApiKey("The token has expired.") from None
    except jwt.InvalidAudienceError:
        raise InvalidApiKey("The token was not issued for this gateway (audience).") from None
    except jwt.InvalidIssuerError:
        raise InvalidApiKey("The token's issuer is not trusted by this gateway.") from None
    except jwt.PyJWTError:
        raise InvalidApiKey("The token's signature or claims are invalid.") from None
    return claims


def _check_client(claims: dict[str, Any], issuer: IssuerConfig) -> None:
    if not issuer.client_ids:
        return
    client = claims.get("azp") or claims.get("client_id")
    if client not in issuer.client_ids:
        raise InvalidApiKey("The token was issued to a client this gateway does not accept.")
