"""Chat front-ends acting for their users: who the end user is, and how sure we are.

Only a key marked as a trusted front-end may name an end user; the headers below mean nothing
on any other credential. In order of preference:

1. ``X-Hygie-User-Token``: the user's own identity-provider token, forwarded (verified);
2. ``X-OpenWebUI-User-Jwt``: a per-user HS256 JWT signed with the secret shared with this key
   (verified; keys in mode ``signed`` or ``headers``);
3. ``X-OpenWebUI-User-Email`` / ``-Name``: plain headers, for keys in mode ``headers`` only
   (recorded as unverified).

A key marked ``required`` is refused when none of these names a user. The body's ``user`` field
is never an identity: it stays a tag of the client's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import jwt

from billing.directory import Department, Principal, User
from gateway.errors import InvalidApiKey
from gateway.identity.claims import clean_text
from gateway.identity.front_end_secrets import SecretBox
from gateway.identity.token_auth import TokenAuthenticator

USER_TOKEN_HEADER = "x-hygie-user-token"
OPENWEBUI_JWT_HEADER = "x-openwebui-user-jwt"
OPENWEBUI_EMAIL_HEADER = "x-openwebui-user-email"
OPENWEBUI_NAME_HEADER = "x-openwebui-user-name"
_MAX_HEADER_CHARS = 16 * 1024
_MAX_CACHED = 50_000
_LEEWAY_S = 30

# (username, the front-end's department) → the user (created as a member if new) and department.
PlaceFn = Callable[[str, str], Awaitable[tuple[User, Department]]]


class FrontEnds:
    """Resolves the end user a trusted front-end names."""

    def __init__(
        self,
        place: PlaceFn,
        *,
        tokens: TokenAuthenticator | None,
        secrets: SecretBox | None,
        username_claim: str,
        ttl_s: float,
    ) -> None:
        self._place = place
        self._tokens = tokens
        self._secrets = secrets
        self._username_claim = username_claim
        self._ttl_s = ttl_s
        self._cache: dict[tuple[str, bytes], tuple[float, Principal]] = {}

    async def principal(self, front: Principal, headers: Mapping[str, str]) -> Principal:
        """The end user's principal, or the front-end's own when it names nobody (and may)."""
        trust = front.front_end
        assert trust is not None and front.key_id is not None
        user_token = _header(headers, USER_TOKEN_HEADER)
        if user_token and self._tokens is not None:
            end_user = await self._tokens.principal(user_token)
            return _acting(end_user, front, verified=True)
        signed = _header(headers, OPENWEBUI_JWT_HEADER) if trust.mode != "token" else None
        if signed:
            return await self._cached(front, "jwt", signed, lambda: self._signed(front, signed))
        named = _header(headers, OPENWEBUI_EMAIL_HEADER) or _header(headers, OPENWEBUI_NAME_HEADER)
        if named and trust.mode == "headers" and not trust.required:
            return await self._cached(front, "plain", named, lambda: self._plain(front, named))
        if trust.required:
            raise InvalidApiKey("This front-end key must name a verified user; none was valid.")
        return front

    async def _cached(
        self,
        front: Principal,
        kind: str,
        value: str,
        resolve: Callable[[], Awaitable[tuple[float, Principal]]],
    ) -> Principal:
        assert front.key_id is not None
        slot = (front.key_id, hashlib.sha256(f"{kind}\0{value}".encode()).digest())
        hit = self._cache.get(slot)
        now = time.time()
        if hit is not None and hit[0] > now:
            return hit[1]
        expires_at, principal = await resolve()
        if len(self._cache) >= _MAX_CACHED:
            self._cache.clear()
        self._cache[slot] = (min(expires_at, now + self._ttl_s), principal)
        return principal

    async def _signed(self, front: Principal, token: str) -> tuple[float, Principal]:
        trust = front.front_end
        assert trust is not None
        secret = None
        if trust.encrypted_secret and self._secrets is not None:
            secret = self._secrets.open(trust.encrypted_secret)
        if secret is None:
            raise InvalidApiKey("This front-end has no usable signing secret; ask an admin.")
        claims = _verified(token, secret)
        username = clean_text(str(claims.get(self._username_claim) or ""), 128)
        if username is None:
            raise InvalidApiKey(f"The front-end's user token has no '{self._username_claim}'.")
        return float(claims["exp"]), await self._end_user(front, username, verified=True)

    async def _plain(self, front: Principal, named: str) -> tuple[float, Principal]:
        username = clean_text(named, 128)
        if username is None:
            raise InvalidApiKey("The front-end's user header is not a usable name.")
        return time.time() + self._ttl_s, await self._end_user(front, username, verified=False)

    async def _end_user(self, front: Principal, username: str, *, verified: bool) -> Principal:
        user, department = await self._place(username, front.department)
        end_user = Principal(
            key_id=None,
            user_id=user.id,
            username=user.username,
            # An unverified name grants no role: anyone holding the key could have typed it.
            role=user.role if verified else "member",
            department_id=department.id,
            department=department.name,
            default_data_class=department.default_data_class,
            use_case=front.use_case,
            credential=front.credential,
            roles=(user.role,) if verified else ("member",),
        )
        return _acting(end_user, front, verified=verified)


def _acting(end_user: Principal, front: Principal, *, verified: bool) -> Principal:
    """``end_user`` as served through ``front``: the front-end's key acted and is recorded."""
    return dataclasses.replace(
        end_user,
        key_id=front.key_id,
        front_end_key_id=front.key_id,
        end_user_verified=verified,
        use_case=end_user.use_case or front.use_case,
        front_end=None,
    )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if not value or len(value) > _MAX_HEADER_CHARS:
        return None
    return value.strip() or None


def _verified(token: str, secret: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            leeway=_LEEWAY_S,
            options={"require": ["exp"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidApiKey("The front-end's user token has expired.") from None
    except jwt.PyJWTError:
        raise InvalidApiKey("The front-end's user token is invalid.") from None
    return claims
