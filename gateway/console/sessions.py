"""Server-side console sessions: the browser holds only a random id in an HttpOnly cookie.

Sessions live in the gateway process (created at startup, handed to the routes through the
app's state): signing out or a restart ends them at once, and nothing about a session can be
forged or read from the cookie. Each session has its own CSRF token, which every form that
changes something must send back.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.api.admin_auth import AdminPrincipal, AdminRole

MAX_SESSIONS = 10_000
"""Bound on live sessions: past it the oldest is dropped (sign-in floods cannot grow memory)."""
MAX_REDEEMED_LINKS = 100_000


@dataclass(frozen=True, slots=True)
class Identity:
    """A verified person: from the identity provider, a one-time link or a break-glass token."""

    username: str
    role: str
    department: str | None
    display_name: str = ""
    method: str = "link"
    issuer: str = ""
    """The identity provider that vouched for the person (``method == "oidc"``)."""


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    csrf: str
    identity: Identity
    expires_at: float

    @property
    def principal(self) -> AdminPrincipal | None:
        """The admin API's principal for this person; None for a plain member."""
        try:
            role = AdminRole(self.identity.role)
        except ValueError:
            return None
        department = self.identity.department if role is AdminRole.DEPARTMENT_ADMIN else None
        return AdminPrincipal(role, department, self.identity.username)

    def csrf_matches(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token.encode(), self.csrf.encode())


class SessionStore:
    """Live sessions and redeemed link nonces, in memory; ids are 256-bit random."""

    def __init__(self, ttl_s: int, clock: Callable[[], float] = time.time) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._redeemed: dict[str, float] = {}

    def open(self, identity: Identity) -> Session:
        """A new session for ``identity`` (a fresh id: no session fixation)."""
        self._prune()
        while len(self._sessions) >= MAX_SESSIONS:
            self._sessions.pop(next(iter(self._sessions)))
        session = Session(
            id=secrets.token_urlsafe(32),
            csrf=secrets.token_urlsafe(32),
            identity=identity,
            expires_at=self._clock() + self._ttl_s,
        )
        self._sessions[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        if not session_id or len(session_id) > 100:
            return None
        session = self._sessions.get(session_id)
        if session is None or session.expires_at < self._clock():
            self._sessions.pop(session_id or "", None)
            return None
        return session

    def close(self, session_id: str | None) -> None:
        self._sessions.pop(session_id or "", None)

    def redeem_once(self, nonce: str, expires_at: float) -> bool:
        """True the first time ``nonce`` is seen (until it expires), False afterwards."""
        self._prune()
        if nonce in self._redeemed:
            return False
        if len(self._redeemed) >= MAX_REDEEMED_LINKS:
            return False  # refuse rather than forget a nonce that could then be replayed
        self._redeemed[nonce] = expires_at
        return True

    def _prune(self) -> None:
        now = self._clock()
        for sid in [s.id for s in self._sessions.values() if s.expires_at < now]:
            del self._sessions[sid]
        for nonce in [n for n, until in self._redeemed.items() if until < now]:
            del self._redeemed[nonce]
