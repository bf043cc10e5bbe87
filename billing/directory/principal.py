"""The one identity every credential resolves to: who acts, for which department and purpose.

Quotas, policy, routing, the ledger, ``/v1/me`` and the admin API read a :class:`Principal` and
never the kind of credential behind it, so an API key and a single sign-on token with the same
user behave the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

FRONT_END_MODES = ("token", "signed", "headers")
"""How a chat front-end may name its end user, from strictest to loosest: only by forwarding
the user's own identity-provider token; also by a per-user JWT signed with a secret shared with
the gateway (Open WebUI's ``X-OpenWebUI-User-Jwt``); also by plain headers (unverified)."""


@dataclass(frozen=True, slots=True)
class FrontEndTrust:
    """What a key marked as a trusted chat front-end may do (``secret`` stays encrypted)."""

    mode: str
    encrypted_secret: str | None
    required: bool
    """Refuse the front-end's requests that name no (valid) end user."""


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of one request, once authenticated.

    ``key_id`` is the API key that acted (a chat front-end's key when one acted for its user;
    None for a token). ``credential`` names what acted: ``key:<id>`` or ``token:<issuer>#<sub>``.
    ``end_user_verified`` is False only when a front-end named its user with plain headers.
    """

    key_id: str | None
    user_id: int
    username: str
    role: str
    department_id: int
    department: str
    default_data_class: str | None
    use_case: str | None
    credential: str = ""
    roles: tuple[str, ...] = ()
    front_end_key_id: str | None = None
    end_user_verified: bool = True
    front_end: FrontEndTrust | None = None
    """Set on the principal of a trusted front-end's own key: it may name an end user."""

    def has_role(self, role: str) -> bool:
        """True when ``role`` is this principal's role or one of its extra roles."""
        return role == self.role or role in self.roles
