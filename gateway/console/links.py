"""One-time sign-in links: ``hygie console link --user NAME`` prints one, the console redeems it.

A link carries a signed token (HMAC-SHA256 over the user name, an expiry and a random nonce).
The CLI and the server share only the secret, never a database row, so a link can be printed
by an operator's shell on another machine. The server remembers redeemed nonces until they
expire, which makes each link single-use within a gateway process.

The token names a user, not a role: the role and department are read from the directory when
the link is redeemed, so a link printed before a demotion grants only the new role.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import orjson

_VERSION = "v1"
_PURPOSE = b"hygie-console-sign-in-link"
MAX_TOKEN_CHARS = 600


class InvalidLink(ValueError):
    """The link is malformed, forged, expired or already used."""


@dataclass(frozen=True, slots=True)
class LinkClaim:
    """What a verified link says: who may sign in, until when, and its single-use nonce."""

    username: str
    expires_at: float
    nonce: str


def link_key(console_secret: str | None, admin_token: str | None) -> bytes | None:
    """The signing key: the console secret, else one derived from the admin token."""
    if console_secret:
        return hmac.new(console_secret.encode(), _PURPOSE, hashlib.sha256).digest()
    if admin_token:
        # Derived, never the token itself: a leaked link cannot be turned back into the token.
        return hmac.new(admin_token.encode(), _PURPOSE, hashlib.sha256).digest()
    return None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(key: bytes, username: str, ttl_s: int, *, now: float | None = None) -> str:
    """A signed token letting ``username`` sign in once within ``ttl_s`` seconds."""
    issued = time.time() if now is None else now
    payload = orjson.dumps({"u": username, "e": int(issued + ttl_s), "n": secrets.token_hex(16)})
    body = _b64(payload)
    signature = _b64(hmac.new(key, f"{_VERSION}.{body}".encode(), hashlib.sha256).digest())
    return f"{_VERSION}.{body}.{signature}"


def read_token(key: bytes, token: str, *, now: float | None = None) -> LinkClaim:
    """The claim of a genuine, unexpired token; raises :class:`InvalidLink` otherwise."""
    if len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
        raise InvalidLink("malformed link")
    version, body, signature = token.split(".")
    expected = _b64(hmac.new(key, f"{version}.{body}".encode(), hashlib.sha256).digest())
    if version != _VERSION or not hmac.compare_digest(expected.encode(), signature.encode()):
        raise InvalidLink("this link is not genuine")
    try:
        fields = orjson.loads(_unb64(body))
        claim = LinkClaim(str(fields["u"]), float(fields["e"]), str(fields["n"]))
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        raise InvalidLink("malformed link") from None
    if claim.expires_at < (time.time() if now is None else now):
        raise InvalidLink("this link has expired")
    return claim
